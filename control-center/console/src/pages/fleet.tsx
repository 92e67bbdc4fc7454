/**
 * Fleet (docs/console.md "Pages"): workstations with last seen, the policy revision each holds,
 * users and phones; per workstation: unpair a phone, reset a user's lockout, revoke it.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { WorkstationDetailView, WorkstationView } from '../../../admin-client.js';
import { admin } from '../api.js';
import { shortId, when } from '../format.js';
import { Page, StatusLine, useApiCall, DataTable } from '../ui.js';

const PAGE_SIZE = 1000;

export function FleetPage() {
  const { status, setStatus, run } = useApiCall();
  const [workstations, setWorkstations] = useState<WorkstationView[] | null>(null);
  const [revision, setRevision] = useState<number | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [list, settings] = await Promise.all([
      run(() => admin.workstations({ limit: PAGE_SIZE })),
      run(() => admin.settings()),
    ]);
    if (list) setWorkstations(list.workstations);
    if (settings) setRevision(settings.revision);
  }, [run]);
  useEffect(() => void load(), [load]);

  return (
    <Page title="Fleet" id="fleet">
      <p>
        Enrolled workstations. The policy in force is revision <strong>{revision ?? '…'}</strong>; a workstation that
        holds an older one gets it when it is next online.
      </p>
      <StatusLine status={status} />
      {workstations === null ? (
        <p>Loading…</p>
      ) : workstations.length === 0 ? (
        <p>No workstations yet — create an install token and enroll one.</p>
      ) : (
        <DataTable
          label="Workstations"
          caption="Workstations"
          columns={['Name', 'Last seen', 'Policy revision', 'Users', 'Phones']}
          actions
        >
          {workstations.map((w) => (
            <tr key={w.workstationId}>
              <th scope="row">
                {w.name} <span class="id">{shortId(w.workstationId)}</span>
              </th>
              <td>{when(w.lastSeenAt)}</td>
              <td>
                {w.policyVersion ?? '—'}
                {w.policyVersion !== null &&
                w.policyVersion !== undefined &&
                revision !== null &&
                w.policyVersion < revision
                  ? ' (older)'
                  : ''}
              </td>
              <td>{w.users?.join(', ') || '—'}</td>
              <td>{w.phones ?? 0}</td>
              <td>
                <button
                  type="button"
                  class="secondary"
                  aria-expanded={selected === w.workstationId}
                  aria-controls="workstation-detail"
                  onClick={() => setSelected(selected === w.workstationId ? null : w.workstationId)}
                >
                  Manage<span class="visually-hidden"> {w.name}</span>
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <div id="workstation-detail">
        {selected && (
          <WorkstationDetail
            key={selected}
            id={selected}
            onChanged={load}
            onRemoved={() => {
              setSelected(null);
              setStatus({ kind: 'ok', text: 'Workstation revoked; its key is refused from now on.' });
              void load();
            }}
          />
        )}
      </div>
    </Page>
  );
}

function WorkstationDetail({ id, onChanged, onRemoved }: { id: string; onChanged: () => void; onRemoved: () => void }) {
  const { status, setStatus, run } = useApiCall();
  const [detail, setDetail] = useState<WorkstationDetailView | null>(null);
  const [confirming, setConfirming] = useState(false);
  const load = useCallback(async () => {
    const loaded = await run(() => admin.workstation(id));
    if (loaded) setDetail(loaded);
  }, [id, run]);
  useEffect(() => void load(), [load]);
  if (!detail) return <StatusLine status={status} />;
  const name = detail.workstation.name;
  const users = [...new Set(detail.phones.map((p) => p.user))];

  const unpair = async (deviceId: string, phone: string, user: string) => {
    if ((await run(() => admin.unpair(id, deviceId, user))) === undefined) return;
    setStatus({ kind: 'ok', text: `Unpaired ${phone} from ${user} on ${name}.` });
    void load();
    onChanged();
  };
  const reset = async (user: string) => {
    const asked = await run(() => admin.resetLockout(id, user));
    if (!asked) return;
    setStatus({
      kind: 'ok',
      text: `Asked ${name} to clear ${user}'s failed attempts; it does when it next polls, within seconds while online.`,
    });
    void load();
  };
  const revoke = async () => {
    if ((await run(() => admin.removeWorkstation(id))) !== undefined) onRemoved();
  };

  return (
    <section class="detail" aria-labelledby="detail-title">
      <h3 id="detail-title">{name}</h3>
      <p class="id">
        {id} · enrolled {when(detail.workstation.enrolledAt)} · last seen {when(detail.workstation.lastSeenAt)}
      </p>
      <StatusLine status={status} />
      <h4>Paired phones</h4>
      {detail.phones.length === 0 ? (
        <p>No phone is paired here.</p>
      ) : (
        <DataTable label={`Phones paired on ${name}`} columns={['User', 'Phone', 'Paired', 'Last seen']} actions>
          {detail.phones.map((p) => (
            <tr key={`${p.deviceId} ${p.user}`}>
              <td>{p.user}</td>
              <td>{p.name}</td>
              <td>{when(p.pairedAt)}</td>
              <td>{when(p.lastSeenAt)}</td>
              <td>
                <button type="button" class="secondary" onClick={() => unpair(p.deviceId, p.name, p.user)}>
                  Unpair
                  <span class="visually-hidden">
                    {' '}
                    {p.name} from {p.user}
                  </span>
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <h4>Lockouts</h4>
      <p class="help">
        After repeated wrong offline PINs a user waits longer and longer, and after 10 the offline PINs stop. A reset
        clears the count on the workstation.
      </p>
      {users.length === 0 ? (
        <p>No user with a paired phone here.</p>
      ) : (
        <ul class="plain">
          {users.map((user) => (
            <li key={user}>
              <button type="button" class="secondary" onClick={() => reset(user)}>
                Reset lockout for {user}
              </button>
            </li>
          ))}
        </ul>
      )}
      {detail.lockoutResets.length > 0 && (
        <ul class="plain history" aria-label="Recent lockout resets">
          {detail.lockoutResets.map((r) => (
            <li key={r.resetId}>
              {r.user}:{' '}
              {r.doneAt === null
                ? `asked ${when(r.requestedAt)}, waiting for the workstation`
                : `${r.result === 'cleared' ? 'cleared' : 'nothing to clear'} ${when(r.doneAt)}`}
            </li>
          ))}
        </ul>
      )}
      <h4>Revoke</h4>
      {!confirming ? (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Revoke {name}…
        </button>
      ) : (
        // biome-ignore lint/a11y/useSemanticElements: a confirmation (a sentence and two buttons), not a form's fieldset with a legend
        <div role="group" aria-labelledby="confirm-revoke">
          <p id="confirm-revoke">
            Revoke {name}? Its key is refused from then on; enrolling it again needs a new install token.
          </p>
          <button type="button" class="danger" onClick={revoke}>
            Yes, revoke {name}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      )}
    </section>
  );
}
