/**
 * The console's frame: resumes the session on load, shows the sign-in page without one, and
 * otherwise the navigation and the page of the hash route (docs/console.md "Pages").
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ConsoleSessionView } from '../../admin-client.js';
import { admin, isSignedOut, messageOf, setCsrfToken } from './api.js';
import { AuditPage } from './pages/audit.js';
import { FleetPage } from './pages/fleet.js';
import { InstallTokensPage } from './pages/install-tokens.js';
import { RecoveryPage } from './pages/recovery.js';
import { SettingsPage } from './pages/settings.js';
import { SignInPage } from './pages/sign-in.js';
import { SessionContext } from './ui.js';

const PAGES = [
  { path: 'settings', title: 'Workstation Settings', Page: SettingsPage },
  { path: 'fleet', title: 'Fleet', Page: FleetPage },
  { path: 'recovery', title: 'Recovery PIN', Page: RecoveryPage },
  { path: 'audit', title: 'Audit', Page: AuditPage },
  { path: 'install-tokens', title: 'Install tokens', Page: InstallTokensPage },
] as const;

const routeOf = () => PAGES.find((p) => `#/${p.path}` === location.hash) ?? PAGES[0];

export function App() {
  const [session, setSession] = useState<ConsoleSessionView | null | 'loading'>('loading');
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState(routeOf);

  // Calls in flight when a session ends all fail; the first one says why (expired, revoked…).
  const ended = useRef(false);
  const signedOut = useCallback((message: string) => {
    if (ended.current) return;
    ended.current = true;
    setCsrfToken(null);
    setNotice(message);
    setSession(null);
  }, []);
  const signedIn = useCallback((view: ConsoleSessionView) => {
    ended.current = false;
    setCsrfToken(view.csrfToken);
    setNotice(null);
    setSession(view);
  }, []);

  useEffect(() => {
    admin.session().then(signedIn, (error: unknown) => {
      setSession(null);
      if (!isSignedOut(error)) setNotice(messageOf(error));
    });
    const onHash = () => setRoute(routeOf());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, [signedIn]);

  useEffect(() => {
    document.title =
      session && session !== 'loading'
        ? `${route.title} — Latchkey Control Center`
        : 'Sign in — Latchkey Control Center';
  }, [session, route]);

  if (session === 'loading')
    return (
      <main id="main">
        <p role="status">Loading…</p>
      </main>
    );
  if (session === null) return <SignInPage notice={notice} onSignedIn={signedIn} />;

  const signOut = async () => {
    try {
      await admin.signOut();
      signedOut('You signed out.');
    } catch (error) {
      signedOut(
        isSignedOut(error)
          ? messageOf(error)
          : `Signed out here; the Control Center did not confirm: ${messageOf(error)}`,
      );
    }
  };
  const { Page } = route;
  return (
    <SessionContext.Provider value={{ signedOut }}>
      {/* biome-ignore lint/a11y/useValidAnchor: a skip link is a link to #main; the click only moves focus there as well, which a hash change alone does not in every browser */}
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <p class="brand">Latchkey Control Center</p>
        <nav aria-label="Console">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p === route ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>Signed in with token “{session.adminTokenName}”</span>
          <button type="button" class="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page key={route.path} />
      </main>
    </SessionContext.Provider>
  );
}
