/** Install tokens (docs/console.md "Pages"): create one (shown once), list them, revoke one. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { InstallTokenView } from '../../../admin-client.js';
import { admin } from '../api.js';
import { shortId, when } from '../format.js';
import { Page, StatusLine, useApiCall, DataTable, Field, SecretBox, valueTo, InlineForm } from '../ui.js';

export function InstallTokensPage() {
  const { status, setStatus, run } = useApiCall();
  const [tokens, setTokens] = useState<InstallTokenView[] | null>(null);
  const [note, setNote] = useState('');
  const [hours, setHours] = useState('168');
  const [uses, setUses] = useState('1000');
  const [created, setCreated] = useState<InstallTokenView | null>(null);

  const load = useCallback(async () => {
    const list = await run(() => admin.installTokens());
    if (list) setTokens(list.installTokens);
  }, [run]);
  useEffect(() => void load(), [load]);

  const create = async (event: Event) => {
    event.preventDefault();
    setCreated(null);
    const body = {
      ...(note.trim() ? { note: note.trim() } : {}),
      expiresInHours: /^\d+$/.test(hours) ? Number(hours) : NaN,
      maxUses: /^\d+$/.test(uses) ? Number(uses) : NaN,
    };
    const token = await run(() => admin.createInstallToken(body));
    if (!token) return;
    setCreated(token);
    setNote('');
    setStatus({ kind: 'ok', text: 'Install token created; it is shown once, below.' });
    void load();
  };
  const revoke = async (id: string) => {
    if ((await run(() => admin.revokeInstallToken(id))) === undefined) return;
    setStatus({ kind: 'ok', text: `Revoked ${shortId(id)}; workstations can no longer enroll with it.` });
    void load();
  };

  return (
    <Page title="Install tokens" id="install-tokens">
      <p>
        An installer enrolls a workstation with an install token (the <code>INSTALL_TOKEN</code> property, or{' '}
        <code>controlCenter.installToken</code>).
      </p>
      <InlineForm onSubmit={create} submit="Create install token">
        <Field for="token-note" label="Note">
          <input id="token-note" maxLength={200} value={note} onInput={valueTo(setNote)} />
        </Field>
        <Field for="token-hours" label="Expires in (hours)">
          <input id="token-hours" type="number" min={1} max={8760} value={hours} onInput={valueTo(setHours)} />
        </Field>
        <Field for="token-uses" label="Workstations it may enroll">
          <input id="token-uses" type="number" min={1} max={1000000} value={uses} onInput={valueTo(setUses)} />
        </Field>
      </InlineForm>
      <StatusLine status={status} />
      {created?.token && (
        <SecretBox id="new-token-title" title="New install token">
          <p class="token" data-testid="install-token">
            {created.token}
          </p>
          <p>
            Store it now: it is shown once. It works until {when(created.expiresAt)}, for up to {created.maxUses}{' '}
            workstations.
          </p>
        </SecretBox>
      )}
      <h3>Tokens</h3>
      {tokens === null ? (
        <p>Loading…</p>
      ) : tokens.length === 0 ? (
        <p>No install tokens yet.</p>
      ) : (
        <DataTable label="Install tokens" columns={['Token', 'Note', 'Uses', 'Expires', 'State']} actions>
          {tokens.map((t) => {
            const state =
              t.revokedAt !== null
                ? `revoked ${when(t.revokedAt)}`
                : t.expiresAt <= Date.now()
                  ? 'expired'
                  : t.uses >= t.maxUses
                    ? 'used up'
                    : 'active';
            return (
              <tr key={t.installTokenId}>
                <th scope="row" class="id">
                  {shortId(t.installTokenId)}
                </th>
                <td>{t.note || '—'}</td>
                <td>
                  {t.uses} of {t.maxUses}
                </td>
                <td>{when(t.expiresAt)}</td>
                <td>{state}</td>
                <td>
                  {state === 'active' && (
                    <button type="button" class="secondary" onClick={() => revoke(t.installTokenId)}>
                      Revoke<span class="visually-hidden"> {t.note || shortId(t.installTokenId)}</span>
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
    </Page>
  );
}
