/** Sign-in: an admin token, exchanged for a session cookie (docs/console.md); the field is cleared at once. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConsoleSessionView } from '../../../admin-client.js';
import { admin, messageOf } from '../api.js';

export function SignInPage({
  notice,
  onSignedIn,
}: {
  notice: string | null;
  onSignedIn: (view: ConsoleSessionView) => void;
}) {
  const field = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => field.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const input = field.current!;
    const token = input.value.trim();
    input.value = '';
    if (token === '') {
      setError('Paste an admin token (lk_admin_…).');
      input.focus();
      return;
    }
    setBusy(true);
    try {
      onSignedIn(await admin.signIn(token));
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
      input.focus();
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Latchkey Control Center</h1>
      {notice && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      <form onSubmit={submit} aria-labelledby="sign-in-title" noValidate>
        <h2 id="sign-in-title">Sign in</h2>
        <label for="admin-token">Admin token</label>
        <p id="admin-token-help" class="help">
          The token printed at the Control Center's first start, or one made with{' '}
          <code>latchkey admin admin-tokens create</code>. It is exchanged for a session that ends after 15 idle
          minutes.
        </p>
        <input
          id="admin-token"
          ref={field}
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          aria-describedby={error ? 'admin-token-help admin-token-error' : 'admin-token-help'}
          aria-invalid={error ? 'true' : undefined}
        />
        <p id="admin-token-error" role="alert" class="field-error">
          {error ?? ''}
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
