/** Recovery PIN (docs/console.md "Pages"): reveal one for a user on a workstation; shown once, kept nowhere. */
import { useEffect, useState } from 'preact/hooks';
import type { WorkstationView } from '../../../admin-client.js';
import { admin } from '../api.js';
import { Page, StatusLine, useApiCall, WorkstationOptions, Field, SecretBox, valueTo, InlineForm } from '../ui.js';

export function RecoveryPage() {
  const { status, setStatus, run } = useApiCall();
  const [workstations, setWorkstations] = useState<WorkstationView[]>([]);
  const [workstationId, setWorkstationId] = useState('');
  const [user, setUser] = useState('');
  const [shown, setShown] = useState<{ pin: string; user: string; workstation: string } | null>(null);
  const [enabled, setEnabled] = useState<boolean | null>(null);

  useEffect(() => {
    void run(() => admin.workstations({ limit: 1000 })).then((list) => {
      if (!list) return;
      setWorkstations(list.workstations);
      if (list.workstations[0]) setWorkstationId(list.workstations[0].workstationId);
    });
    void run(() => admin.settings()).then(
      (settings) => settings && setEnabled(settings.effective.recoveryPin === true),
    );
  }, [run]);
  const chosen = workstations.find((w) => w.workstationId === workstationId);

  const reveal = async (event: Event) => {
    event.preventDefault();
    setShown(null);
    if (!chosen || user.trim() === '')
      return setStatus({ kind: 'error', text: 'Choose a workstation and name the user.' });
    const answer = await run(() => admin.revealRecoveryPin(chosen.workstationId, user.trim()));
    if (!answer) return;
    setShown({ pin: answer.pin.replace(/(.{4})(?=.)/g, '$1-'), user: user.trim(), workstation: chosen.name });
    setStatus({
      kind: 'ok',
      text: `Recovery PIN for ${user.trim()} on ${chosen.name} revealed; it is shown once, below.`,
    });
  };

  return (
    <Page title="Recovery PIN" id="recovery">
      <p>
        A one-time PIN for one user on one workstation, for when their phone is lost. It works once, offline too; the
        workstation makes a new one when it is next online. Every reveal is in the audit.
      </p>
      {enabled === false && (
        <p class="notice">
          Recovery PINs are off in Workstation Settings; turn them on there first (workstations then make one per user
          when next online).
        </p>
      )}
      <InlineForm onSubmit={reveal} submit="Reveal recovery PIN">
        <Field for="recovery-workstation" label="Workstation">
          <select id="recovery-workstation" value={workstationId} onChange={valueTo(setWorkstationId)}>
            <WorkstationOptions workstations={workstations} />
          </select>
        </Field>
        <Field for="recovery-user" label="User">
          <input id="recovery-user" list="recovery-users" autocomplete="off" value={user} onInput={valueTo(setUser)} />
          <datalist id="recovery-users">
            {(chosen?.users ?? []).map((u) => (
              <option key={u} value={u} />
            ))}
          </datalist>
        </Field>
      </InlineForm>
      <StatusLine status={status} />
      {shown && (
        <SecretBox id="recovery-pin-title" title={`Recovery PIN for ${shown.user} on ${shown.workstation}`}>
          <p class="pin" data-testid="recovery-pin">
            {shown.pin}
          </p>
          <p>Read it to the user now: it is shown once and leaves this page when you go elsewhere.</p>
        </SecretBox>
      )}
    </Page>
  );
}
