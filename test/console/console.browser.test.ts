/**
 * The web console in a real browser (issue 14, docs/console.md): Debian's Chromium driven by
 * playwright-core against a real Control Center process, with a real agent enrolled there and a
 * phone through the `latchkey phone` CLI. An admin signs in, turns Offline Mode on and changes
 * the PIN count; the agent enforces the new signed policy, the phone's next sign-in brings a pool
 * of the new size, and the audit shows that sign-in. Refusals: out-of-range settings, changes
 * without the cookie or the CSRF token, an expired session. axe-core checks every page; each
 * page is saved as a screenshot (LATCHKEY_CONSOLE_SCREENSHOTS=docs/console refreshes the
 * committed ones).
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, makeTempDir, spawnAgent, writeAgentConfig, type AgentFiles } from '../helpers/agent-harness.js';
import type { AgentProcess } from '../helpers/agent-harness.js';
import { ControlCenterProcess, PhoneCli, eventually, freePort, pairThroughAgent } from '../helpers/online-stack.js';
import { runCli, statusJson } from '../helpers/run-cli.js';
import { createUser, removeUser, type TestUser } from '../native/helpers/pam-env.js';
import { startTestCc, type TestCc } from '../control-center/helpers.js';
import { CONSOLE_IDLE_MS } from '../../control-center/http/console-session.js';

const WORKSTATION = 'ws-console';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = process.env.LATCHKEY_CONSOLE_SCREENSHOTS
  ? path.resolve(REPO, process.env.LATCHKEY_CONSOLE_SCREENSHOTS)
  : path.join(tmpdir(), `latchkey-console-screenshots-${process.pid}`);

let dir: string;
let cc: ControlCenterProcess;
let files: AgentFiles;
let agent: AgentProcess;
let user: TestUser;
let phone: PhoneCli;
let browser: Browser;
let context: BrowserContext;
let page: Page;

function status() {
  return statusJson<{
    offlineMode: boolean;
    pools: { pinCount: number; remaining: number }[];
    failures: number;
    locked: boolean;
  }>(files.socket, user.name);
}

async function adminJson<T>(args: string[]): Promise<T> {
  const run = await cc.admin(['--json', ...args]);
  if (run.code !== 0) throw new Error(`latchkey admin ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
const settingsNow = () => adminJson<{ revision: number; effective: Record<string, unknown> }>(['settings', 'show']);

/** axe-core on the page as it is: no serious or critical violation. */
async function expectAccessible(on: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page: on }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${what}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual(
    [],
  );
}

async function screenshot(on: Page, name: string): Promise<void> {
  const file = path.join(SHOTS, `${name}.png`);
  await on.evaluate('window.scrollTo(0, 0)');
  await on.screenshot({ path: file });
  expect((await fs.readFile(file)).subarray(1, 4).toString()).toBe('PNG');
}

async function open(route: string, heading: string): Promise<void> {
  await page.goto(`${cc.url}/#/${route}`);
  await page.getByRole('heading', { level: 2, name: heading }).waitFor();
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('this suite needs root (a test user for the agent and the phone); CI runs npm test as root');
  await fs.mkdir(SHOTS, { recursive: true });
  dir = await makeTempDir('latchkey-console-');
  cc = new ControlCenterProcess(path.join(dir, 'cc.db'), await freePort());
  await cc.start();
  const created = await cc.admin(['install-tokens', 'create', '--note', 'console test']);
  const installToken = /lk_install_[A-Za-z0-9_-]{43}/.exec(created.stdout)![0];
  files = await writeAgentConfig(dir, {}, { controlCenter: { url: cc.url, installToken, name: WORKSTATION } });
  agent = await spawnAgent(files);
  await eventually('the agent to enroll', async () =>
    agent.output().includes('workstation.managed') ? true : undefined,
  );
  user = createUser('con');
  phone = await PhoneCli.create(dir, 'Console phone');
  await pairThroughAgent(files.socket, user.name, phone, cc.url);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  context = await browser.newContext({ viewport: { width: 1024, height: 768 }, acceptDownloads: true });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await phone?.stopServing();
  await agent?.stop();
  await cc?.stop();
  removeUser(user);
  if (!process.env.LATCHKEY_CONSOLE_SCREENSHOTS) await fs.rm(SHOTS, { recursive: true, force: true });
});

describe('the web console in Chromium', () => {
  it('signs in with an admin token', async () => {
    await page.goto(cc.url);
    const field = page.getByLabel('Admin token');
    await field.waitFor();
    await expectAccessible(page, 'sign-in');
    await screenshot(page, 'sign-in');
    await field.fill(`lk_admin_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/not valid/);
    await field.fill(cc.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 2, name: 'Workstation Settings' }).waitFor();
    const cookies = await context.cookies();
    expect(cookies).toMatchObject([{ name: 'latchkey_console', httpOnly: true, sameSite: 'Strict', secure: false }]);
  }, 60_000);

  it('turns Offline Mode on and changes the PIN count; the page shows the new revision, the agent enforces it', async () => {
    const before = await settingsNow();
    expect((await status()).offlineMode).toBe(false); // R1: off by default
    await expect.poll(() => page.getByTestId('revision').textContent()).toBe(String(before.revision));
    await page.getByRole('switch', { name: 'Offline Mode' }).check();
    await page.getByLabel('Number of offline PINs').fill('12');
    await page.getByLabel('PIN display timeout (seconds)').fill('45');
    await expect.poll(() => page.locator('.phone').textContent()).toMatch(/1 of 12.*hidden after 45 seconds/);
    await expectAccessible(page, 'settings');
    await screenshot(page, 'settings');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const next = before.revision + 1;
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).textContent())
      .toBe(`Saved — reaches workstations as policy revision ${next}.`);
    expect(await page.getByTestId('revision').textContent()).toBe(String(next));
    expect((await settingsNow()).effective).toMatchObject({ offlineMode: true, pinCount: 12, pinDisplaySeconds: 45 });
    // The agent receives the signed policy, and `latchkey status` shows Offline Mode on.
    await eventually('the agent to apply the new policy', async () =>
      agent.output().includes(`policy.applied version=${next}`) ? true : undefined,
    );
    expect((await status()).offlineMode).toBe(true);
    const human = await runCli(['status', '--user', user.name, '--socket', files.socket]);
    expect(human.stdout).toContain(`${user.name}: offline PINs enabled`);
  }, 90_000);

  it('refuses a PIN count of 5 or 200 with the message `latchkey admin` prints, and saves nothing', async () => {
    const before = await settingsNow();
    for (const count of ['5', '200']) {
      await page.getByLabel('Number of offline PINs').fill(count);
      await page.getByRole('button', { name: 'Save settings' }).click();
      const message = 'pinCount must be an integer from 10 to 100.';
      await expect
        .poll(() => page.getByRole('alert').filter({ hasText: 'pinCount' }).first().textContent())
        .toBe(message);
      expect(await page.getByLabel('Number of offline PINs').getAttribute('aria-invalid')).toBe('true');
      expect(await page.evaluate('document.activeElement?.id')).toBe('setting-pinCount');
      const cli = await cc.admin(['settings', 'set', `pinCount=${count}`]);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(message);
    }
    expect(await settingsNow()).toEqual(before);
    await page.getByRole('button', { name: 'Undo changes' }).click();
    expect(await page.getByLabel('Number of offline PINs').inputValue()).toBe('12');
  }, 60_000);

  it('a paired phone signs in and receives a pool of the new size; the audit page shows that sign-in', async () => {
    const tapped = await phone.run(['tap', WORKSTATION, '--pool-wait', '30']);
    expect(tapped.stdout, tapped.stderr).toMatch(/Approved — ws-console is signing/);
    // The phone's inbox round brings the pool (the tap may not wait for it: see the report on stale phone settings).
    const round = await phone.run(['serve', '--once', '--timeout', '15']);
    let seen = {};
    const pool = await eventually('the pool of 12 at the agent', async () => {
      const current = await status();
      seen = current;
      return current.pools.length === 1 && current.pools[0]!.pinCount === 12 ? current.pools[0] : undefined;
    }).catch((error: Error) => {
      throw new Error(
        `${error.message}\nphone: ${tapped.stdout}${round.stdout}\nstatus: ${JSON.stringify(seen)}\nagent: ${agent
          .output()
          .split('\n')
          .filter((l) => /replenish|pool|online-auth/.test(l))
          .slice(-10)
          .join('\n')}`,
      );
    });
    expect(pool.remaining).toBe(12);
    const shown = await phone.run(['long-press', WORKSTATION], { offline: true });
    expect(shown.stdout).toMatch(/, 1 of 12:/);
    expect(shown.stdout).toContain('The PIN is hidden after 45 seconds.');

    await open('audit', 'Audit');
    const row = page.getByRole('row').filter({ hasText: user.name }).filter({ hasText: 'online' });
    await eventually('the sign-in in the audit', async () => {
      await page.getByRole('button', { name: 'Show', exact: true }).click();
      return (await row.count()) > 0 ? true : undefined;
    });
    expect(await row.first().textContent()).toContain(WORKSTATION);
    await page.getByLabel('User').fill(user.name);
    await page.getByLabel('Kind').selectOption('online');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Unlocks' }).getByRole('row').count()).toBe(2); // header + the sign-in
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await fs.readFile((await (await download).path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('time,workstationId,user,type,result,reason,context,receivedAt,id');
    expect(csv).toMatch(new RegExp(`,${user.name},online-auth,accepted,`));
    expect(await page.getByRole('region', { name: 'Control Center log' }).textContent()).toMatch(/settings\.set/);
    await expectAccessible(page, 'audit');
    await screenshot(page, 'audit');
  }, 120_000);

  it('Fleet shows the workstation with its policy revision, user and phone, and resets a lockout', async () => {
    const { revision } = await settingsNow();
    await open('fleet', 'Fleet');
    const row = page.getByRole('row').filter({ hasText: WORKSTATION });
    await eventually('the policy revision the workstation holds', async () => {
      await page.reload();
      await row.waitFor();
      return (await row.textContent())?.includes(`${revision}${user.name}1`) ? true : undefined;
    });
    // Two different wrong PINs (a repeated one does not count): the agent counts them; the reset from the console clears them.
    for (const wrong of ['ZZZZ-ZZZZ', 'YYYY-YYYY'])
      await runCli(['verify', '--user', user.name, '--socket', files.socket], { input: `${wrong}\n` });
    expect((await status()).failures).toBe(2);
    await page.getByRole('button', { name: `Manage ${WORKSTATION}` }).click();
    await page.getByRole('button', { name: `Reset lockout for ${user.name}` }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'clear' }).first().textContent())
      .toMatch(/Asked ws-console to clear/);
    await eventually('the agent to clear the failures', async () =>
      (await status()).failures === 0 ? true : undefined,
    );
    await expectAccessible(page, 'fleet');
    await screenshot(page, 'fleet');
  }, 90_000);

  it('reveals a recovery PIN once', async () => {
    await open('settings', 'Workstation Settings');
    await page.getByRole('switch', { name: 'Recovery PIN' }).check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).textContent()).toMatch(/^Saved/);
    await open('recovery', 'Recovery PIN');
    await page.getByLabel('User').fill(user.name);
    const pin = page.getByTestId('recovery-pin');
    await eventually(
      'the workstation to upload a recovery PIN',
      async () => {
        await page.getByRole('button', { name: 'Reveal recovery PIN' }).click();
        await page.waitForTimeout(300);
        return (await pin.count()) > 0 ? true : undefined;
      },
      60_000,
    );
    expect(await pin.textContent()).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    await expectAccessible(page, 'recovery');
    await screenshot(page, 'recovery');
    await open('fleet', 'Fleet');
    await open('recovery', 'Recovery PIN');
    expect(await pin.count()).toBe(0); // shown once: gone from the page
  }, 90_000);

  it('creates an install token (shown once), lists it and revokes it', async () => {
    await open('install-tokens', 'Install tokens');
    await page.getByLabel('Note').fill('laptops');
    await page.getByRole('button', { name: 'Create install token' }).click();
    await expect.poll(() => page.getByTestId('install-token').textContent()).toMatch(/^lk_install_[A-Za-z0-9_-]{43}$/);
    const row = page.getByRole('row').filter({ hasText: 'laptops' });
    await expect.poll(() => row.textContent()).toMatch(/active/);
    await expectAccessible(page, 'install tokens');
    await screenshot(page, 'install-tokens');
    await row.getByRole('button', { name: /Revoke/ }).click();
    await expect.poll(() => row.textContent()).toMatch(/revoked/);
  }, 60_000);

  it('unpairs the phone and revokes the workstation from Fleet', async () => {
    await open('fleet', 'Fleet');
    await page.getByRole('button', { name: `Manage ${WORKSTATION}` }).click();
    await page.getByRole('button', { name: new RegExp(`^Unpair .* from ${user.name}$`) }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Unpaired' }).first().textContent())
      .toMatch(/^Unpaired Console phone/);
    expect(
      (
        await adminJson<{ phones: unknown[] }>([
          'workstations',
          'show',
          (
            await adminJson<{ workstations: { workstationId: string }[] }>(['workstations', 'list'])
          ).workstations[0]!.workstationId,
        ])
      ).phones,
    ).toEqual([]);
    await page.getByRole('button', { name: `Revoke ${WORKSTATION}…` }).click();
    await page.getByRole('button', { name: `Yes, revoke ${WORKSTATION}` }).click();
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'revoked' }).first().textContent())
      .toMatch(/Workstation revoked/);
    expect((await adminJson<{ workstations: unknown[] }>(['workstations', 'list'])).workstations).toEqual([]);
  }, 60_000);

  it('refuses a change without the CSRF token, or without the session cookie, and saves nothing', async () => {
    const before = await settingsNow();
    const put = (on: Page, headers: Record<string, string>) =>
      on.evaluate(
        async (h) =>
          (
            await fetch('/v1/admin/settings', {
              method: 'PUT',
              headers: { 'content-type': 'application/json', ...h },
              body: '{"pinCount":50}',
            })
          ).status,
        headers,
      );
    expect(await put(page, {})).toBe(403);
    expect(await put(page, { 'latchkey-csrf': 'A'.repeat(43) })).toBe(403);
    const stranger = await browser.newContext();
    try {
      const other = await stranger.newPage();
      await other.goto(cc.url);
      expect(await put(other, { 'latchkey-csrf': 'A'.repeat(43) })).toBe(401);
    } finally {
      await stranger.close();
    }
    expect(await settingsNow()).toEqual(before);
  }, 60_000);

  it('is usable 360 px wide: nothing wider than the screen, and still accessible', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const [route, heading] of [
      ['settings', 'Workstation Settings'],
      ['fleet', 'Fleet'],
      ['audit', 'Audit'],
      ['install-tokens', 'Install tokens'],
      ['recovery', 'Recovery PIN'],
    ] as const) {
      await open(route, heading);
      expect(await page.evaluate('document.documentElement.scrollWidth'), route).toBeLessThanOrEqual(360);
      await expectAccessible(page, `${route} at 360 px`);
      if (route === 'settings') await screenshot(page, 'settings-360');
    }
    await page.setViewportSize({ width: 1024, height: 768 });
  }, 90_000);

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await page.getByRole('status').textContent()).toBe('You signed out.');
    expect(await page.evaluate(async () => (await fetch('/v1/admin/settings')).status)).toBe(401);
  }, 30_000);
});

describe('an expired session (a Control Center on a test clock)', () => {
  let t: TestCc;
  afterAll(() => t?.close());

  it('is signed in with the keyboard alone, and returns to sign-in once idle for 15 minutes', async () => {
    t = await startTestCc();
    const tab = await context.newPage();
    try {
      await tab.goto(t.url);
      await tab.getByLabel('Admin token').waitFor();
      // The page gives the field the focus once it has rendered (an effect, after paint): wait for that, then type.
      // (Polled from the test: waitForFunction evals its predicate in the page, which the console's CSP forbids.)
      await expect.poll(() => tab.evaluate('document.activeElement?.id'), { timeout: 10_000 }).toBe('admin-token');
      await tab.keyboard.type(t.adminToken);
      await tab.keyboard.press('Enter');
      await tab.getByRole('heading', { level: 2, name: 'Workstation Settings' }).waitFor();
      // The heading shows (and may take the focus) while the settings still load: wait for the form,
      // or the Tab below would leave a page that has no setting yet.
      await tab.getByRole('switch', { name: 'Offline Mode' }).waitFor();
      // The page's heading gets the focus (an effect, after paint); the next Tab reaches the first
      // setting, and Space turns it on.
      await expect
        .poll(() => tab.evaluate('document.activeElement?.textContent'), { timeout: 10_000 })
        .toBe('Workstation Settings');
      await tab.keyboard.press('Tab');
      expect(await tab.evaluate('document.activeElement?.id')).toBe('setting-offlineMode');
      await tab.keyboard.press('Space');
      expect(await tab.getByRole('switch', { name: 'Offline Mode' }).isChecked()).toBe(true);
      t.clock.offsetMs += CONSOLE_IDLE_MS + 1000;
      await tab.getByRole('link', { name: 'Fleet' }).click();
      await tab.getByLabel('Admin token').waitFor();
      expect(await tab.getByRole('status').textContent()).toBe('Your console session expired; sign in again.');
      await expectAccessible(tab, 'sign-in after expiry');
    } finally {
      await tab.close();
    }
  }, 60_000);
});
