/**
 * Workstation Settings (docs/console.md "Pages"): every setting of protocol/policy-settings.ts,
 * checked as typed with the Control Center's own check (checkSettings, the sentences
 * `latchkey admin settings set` prints), a preview of the phone, and the revision a save makes.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { checkSettings } from '../../../admin-api.js';
import type { SettingsView } from '../../../admin-client.js';
import { POLICY_RANGES } from '../../../../protocol/policy-settings.js';
import { admin } from '../api.js';
import { Page, StatusLine, useApiCall } from '../ui.js';
import { PhonePreview } from './settings-preview.js';

type Key =
  | 'offlineMode'
  | 'pinCount'
  | 'pinLength'
  | 'pinCharset'
  | 'offlineAccessDays'
  | 'lowPinWarnPercent'
  | 'pinDisplaySeconds'
  | 'recoveryPin'
  | 'selfPairing';
type Field =
  | { key: Key; label: string; kind: 'switch'; help: string }
  | { key: Key; label: string; kind: 'number'; range: readonly [number, number]; help: string }
  | { key: Key; label: string; kind: 'choice'; options: readonly { value: string; label: string }[]; help: string };

const FIELDS: readonly Field[] = [
  {
    key: 'offlineMode',
    label: 'Offline Mode',
    kind: 'switch',
    help: 'Off by default (R1). While off, workstations accept no offline PIN and phones offer none.',
  },
  {
    key: 'pinCount',
    label: 'Number of offline PINs',
    kind: 'number',
    range: POLICY_RANGES.pinCount,
    help: 'PINs in each pool a phone receives after an online sign-in (10–100).',
  },
  {
    key: 'pinLength',
    label: 'PIN length',
    kind: 'number',
    range: POLICY_RANGES.pinLength,
    help: 'Characters per PIN: 6–13, or 6–8 digits with the numeric set.',
  },
  {
    key: 'pinCharset',
    label: 'Character set',
    kind: 'choice',
    help: 'Letters and digits resist guessing far better than digits alone.',
    options: [
      { value: 'alphanumeric', label: 'Letters and digits (Crockford base32)' },
      { value: 'numeric', label: 'Digits only (RFC 4226)' },
    ],
  },
  {
    key: 'offlineAccessDays',
    label: 'Offline access days',
    kind: 'number',
    range: POLICY_RANGES.offlineAccessDays,
    help: 'A pool stops working this many days after it was issued (7–90).',
  },
  {
    key: 'lowPinWarnPercent',
    label: 'Low-PIN warning (%)',
    kind: 'number',
    range: POLICY_RANGES.lowPinWarnPercent,
    help: 'The phone warns when at most this share of the pool is left (0–100).',
  },
  {
    key: 'pinDisplaySeconds',
    label: 'PIN display timeout (seconds)',
    kind: 'number',
    range: POLICY_RANGES.pinDisplaySeconds,
    help: 'How long the phone shows a PIN before hiding it (10–300).',
  },
  {
    key: 'recoveryPin',
    label: 'Recovery PIN',
    kind: 'switch',
    help: 'An admin can reveal a one-time recovery PIN for one user on one workstation.',
  },
  {
    key: 'selfPairing',
    label: 'Users pair their own phone',
    kind: 'switch',
    help: 'A user may pair their phone with their password; off: only root on the workstation can pair phones.',
  },
];

type Values = Record<Key, string | boolean>;

/** A typed value as `latchkey admin settings set KEY=VALUE` reads it: digits are a number, anything else stays text. */
const parse = (value: string | boolean): unknown =>
  typeof value === 'boolean' ? value : /^\d+$/.test(value) ? Number(value) : value;
const valuesOf = (effective: SettingsView['effective']): Values =>
  Object.fromEntries(
    FIELDS.map((f) => [f.key, f.kind === 'switch' ? effective[f.key] === true : String(effective[f.key] ?? '')]),
  ) as Values;

export function SettingsPage() {
  const { status, setStatus, run } = useApiCall();
  const [view, setView] = useState<SettingsView | null>(null);
  const [values, setValues] = useState<Values | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    void run(() => admin.settings()).then((loaded) => {
      if (!loaded) return;
      setView(loaded);
      setValues(valuesOf(loaded.effective));
    });
  }, [run]);

  const changed = useMemo(() => {
    if (!view || !values) return {};
    return Object.fromEntries(
      FIELDS.filter((f) => parse(values[f.key]) !== view.effective[f.key]).map((f) => [f.key, parse(values[f.key])]),
    );
  }, [view, values]);
  const fieldErrors = useMemo(() => {
    const errors: Partial<Record<Key, string>> = {};
    for (const [key, value] of Object.entries(changed)) {
      const check = checkSettings({ [key]: value });
      if (!check.ok) errors[key as Key] = check.message;
    }
    return errors;
  }, [changed]);
  const candidate = view ? { ...view.overrides, ...changed } : {};
  const whole = checkSettings(candidate);

  if (!view || !values)
    return (
      <Page title="Workstation Settings" id="settings">
        <StatusLine status={status ?? { kind: 'ok', text: 'Loading the settings…' }} />
      </Page>
    );

  const save = async (event: Event) => {
    event.preventDefault();
    setSubmitted(true);
    if (!whole.ok) {
      setStatus({ kind: 'error', text: whole.message });
      const first = FIELDS.find((f) => fieldErrors[f.key]);
      if (first) form.current?.querySelector<HTMLElement>(`#setting-${first.key}`)?.focus();
      return;
    }
    if (Object.keys(changed).length === 0)
      return setStatus({
        kind: 'ok',
        text: `Nothing to save: these settings are in force (policy revision ${view.revision}).`,
      });
    const saved = await run(() => admin.putSettings(candidate));
    if (!saved) return;
    setView(saved);
    setValues(valuesOf(saved.effective));
    setSubmitted(false);
    setStatus({ kind: 'ok', text: `Saved — reaches workstations as policy revision ${saved.revision}.` });
  };

  const set = (key: Key, value: string | boolean) => setValues({ ...values, [key]: value });
  return (
    <Page title="Workstation Settings" id="settings">
      <p>
        Settings for every workstation of <strong>{view.name}</strong> (a group's own settings win). In force: policy
        revision <strong data-testid="revision">{view.revision}</strong>.
      </p>
      <div class="settings-layout">
        <form ref={form} onSubmit={save} noValidate aria-describedby="settings-status" class="settings-form">
          {FIELDS.map((f) => {
            const id = `setting-${f.key}`;
            const error = fieldErrors[f.key];
            const describedBy = `${id}-help${error ? ` ${id}-error` : ''}`;
            return (
              <div class={`field ${f.kind}`} key={f.key}>
                {f.kind === 'switch' ? (
                  <div class="switch-row">
                    <input
                      id={id}
                      type="checkbox"
                      role="switch"
                      checked={values[f.key] === true}
                      aria-checked={values[f.key] === true}
                      aria-describedby={describedBy}
                      onChange={(e) => set(f.key, (e.currentTarget as HTMLInputElement).checked)}
                    />
                    <label for={id}>{f.label}</label>
                  </div>
                ) : (
                  <label for={id}>{f.label}</label>
                )}
                <p id={`${id}-help`} class="help">
                  {f.help}
                </p>
                {f.kind === 'number' && (
                  <input
                    id={id}
                    type="number"
                    inputMode="numeric"
                    min={f.range[0]}
                    max={f.range[1]}
                    step={1}
                    value={String(values[f.key])}
                    aria-describedby={describedBy}
                    aria-invalid={error ? 'true' : undefined}
                    onInput={(e) => set(f.key, (e.currentTarget as HTMLInputElement).value)}
                  />
                )}
                {f.kind === 'choice' && (
                  <select
                    id={id}
                    value={String(values[f.key])}
                    aria-describedby={describedBy}
                    onChange={(e) => set(f.key, (e.currentTarget as HTMLSelectElement).value)}
                  >
                    {f.options.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                )}
                {error && (
                  <p id={`${id}-error`} class="field-error">
                    {error}
                  </p>
                )}
              </div>
            );
          })}
          {!whole.ok && submitted && Object.keys(fieldErrors).length === 0 && (
            <p class="field-error">{whole.message}</p>
          )}
          <div class="actions">
            <button type="submit">Save settings</button>
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setValues(valuesOf(view.effective));
                setStatus(null);
              }}
            >
              Undo changes
            </button>
          </div>
          <div id="settings-status">
            <StatusLine status={status} />
          </div>
        </form>
        <PhonePreview settings={whole.ok ? whole.settings : null} />
      </div>
    </Page>
  );
}
