/**
 * The .deb packages from build to purge (docs/deployment.md), as IT would use them: both built
 * by the package script and checked (dpkg-deb -c/-I, lintian, systemd-analyze); then, in a
 * private copy of this machine (helpers/sandbox.ts: overlays over /etc, /usr, /var and a
 * private /run, so no other test sees any of it), installed with apt, the agent started as its
 * unit says, a throwaway user unlocking through the installed common-auth with pamtester, the
 * Control Center installed and started as its unit says, the workstation enrolled through a
 * debconf preseed, an upgrade that keeps the pool, a remove that restores every PAM stack, and
 * a purge that leaves nothing of Latchkey.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/online-stack.js';
import { ROOT, compileC, removeScratchDir } from '../native/helpers/native-tools.js';
import { VERDICT } from '../native/helpers/pam-env.js';
import { Sandbox, type Run } from './helpers/sandbox.js';
import { startService, type RunningService } from './helpers/unit.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const UPGRADE = `${VERSION}+upgrade1`;
const AGENT_UNIT = '/lib/systemd/system/latchkey-agent.service';
const CC_UNIT = '/lib/systemd/system/latchkey-control-center.service';
const PAM_MODULE = '/lib/x86_64-linux-gnu/security/pam_latchkey.so';
const USER = `lkpkg${process.pid % 100000}`;
const PASSWORD = `Pw-pkg-${process.pid}-ok`;
const SERVICE = `latchkey-pkgtest-${process.pid}`;
const APT = { DEBIAN_FRONTEND: 'noninteractive' };
/** Builds, lintian and apt are long CPU work: niced, so suites timing a screen locker next to them keep their CPU. */
const NICE = ['-n', '10'];
/** Where Latchkey keeps things; whatever of them another engineer left on this machine is hidden inside the sandbox first. */
const LATCHKEY_PATHS = [
  '/etc/latchkey',
  '/var/lib/latchkey',
  '/var/lib/latchkey-control-center',
  '/usr/lib/latchkey',
  '/usr/lib/latchkey-control-center',
];
let hidden: string[] = [];

let out: string;
let sandbox: Sandbox;
let mdwe: string;
let buildOutput: string;
let agent: RunningService | undefined;
let cc: RunningService | undefined;
const before = new Map<string, Buffer>();

function build(args: string[]): string {
  const run = spawnSync(
    'nice',
    [...NICE, process.execPath, join(ROOT, 'installer/deb/build-deb.mjs'), '--compression', 'gzip', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  if (run.status !== 0) throw new Error(`build-deb failed (${run.status}): ${run.stdout}${run.stderr}`);
  return run.stdout;
}

const deb = (name: string, version = VERSION) =>
  join(out, version === VERSION ? 'v1' : 'v2', `${name}_${version}_amd64.deb`);

function apt(args: string[]): Run {
  const run = sandbox.run(['nice', ...NICE, 'apt-get', '-o', 'DPkg::Lock::Timeout=120', ...args], {
    env: APT,
    timeoutMs: 300_000,
  });
  if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
  return run;
}

const latchkey = (args: string[], input?: string) =>
  sandbox.run(['latchkey', ...args], input === undefined ? {} : { input });
const pam = (input: string) =>
  sandbox.run(['pamtester', '-v', SERVICE, USER, 'authenticate'], { input, timeoutMs: 60_000 });
const pinAt = (uri: string, counter: number) =>
  sandbox.check(['latchkey', 'pins', '--uri', uri, '--from', String(counter), '--count', '1']).trim();
const inside = (path: string) => sandbox.path(path);
let uri: string;
let expiresBefore: number;

beforeAll(async () => {
  out = execFileSync('mktemp', ['-d', `/tmp/latchkey-debs-${process.pid}-XXXX`], { encoding: 'utf8' }).trim();
  buildOutput = build(['--out', join(out, 'v1')]);
  build(['--out', join(out, 'v2'), '--version', UPGRADE, '--only', 'latchkey']);
  mdwe = compileC('mdwe-exec', [join(ROOT, 'test/installer/c/mdwe-exec.c')]);
  sandbox = await Sandbox.create();
  hidden = LATCHKEY_PATHS.filter((path) => existsSync(path));
  if (hidden.length > 0) sandbox.check(['rm', '-rf', ...hidden]); // a clean machine, inside the sandbox only
  for (const file of readdirSync('/etc/pam.d').filter((name) => name.startsWith('common-')))
    before.set(`/etc/pam.d/${file}`, readFileSync(`/etc/pam.d/${file}`));
  for (const file of readdirSync('/var/lib/pam'))
    before.set(`/var/lib/pam/${file}`, readFileSync(`/var/lib/pam/${file}`));
}, 600_000);

afterAll(async () => {
  await agent?.stop();
  await cc?.stop();
  await sandbox?.close();
  if (out) execFileSync('rm', ['-rf', out]);
  removeScratchDir();
});

describe('building (npm run package:deb)', () => {
  it("builds both packages and prints each one's installed size", () => {
    for (const name of ['latchkey', 'latchkey-control-center']) {
      expect(buildOutput).toMatch(
        new RegExp(
          `${name}_${VERSION.replace(/\./g, '\\.')}_amd64\\.deb: installed size \\d+\\.\\d MiB \\(\\d+ KiB\\)`,
        ),
      );
      expect(existsSync(deb(name))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['package:deb']).toContain(
      'installer/deb/build-deb.mjs',
    );
  });

  it('lays out the agent package as documented, with its runtime and nothing that is not needed at run time', () => {
    const list = execFileSync('dpkg-deb', ['-c', deb('latchkey')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const entry = (path: string) =>
      new RegExp(`^(\\S+) root/root .* \\.${path.replace(/[.+]/g, '\\$&')}$`, 'm').exec(list)?.[1];
    expect(entry('/usr/bin/latchkey')).toBe('-rwxr-xr-x');
    expect(entry(PAM_MODULE)).toBe('-rw-r--r--');
    expect(entry('/usr/share/pam-configs/latchkey')).toBe('-rw-r--r--');
    expect(entry('/etc/latchkey/agent.json')).toBe('-rw-r--r--');
    expect(entry('/etc/pam.d/latchkey-enroll')).toBe('-rw-r--r--');
    expect(entry(AGENT_UNIT)).toBe('-rw-r--r--');
    expect(entry('/usr/lib/latchkey/node/bin/node')).toBe('-rwxr-xr-x');
    expect(entry('/usr/lib/latchkey/dist/cli/main.js')).toBe('-rw-r--r--');
    expect(entry('/usr/lib/latchkey/node_modules/better-sqlite3/build/Release/better_sqlite3.node')).toBe('-rw-r--r--');
    const paths = list.split('\n').map((line) => line.split(' ./').at(-1) ?? '');
    const notAtRuntime = paths.filter(
      (path) =>
        /\.(ts|map|md)$|node_modules\/(@[^/]+\/)?[^/]+\/(test|tests|docs?)\/$|node_modules\/typescript\/|prebuilds\/(?!linux-x64\/)[^/]+\/|\.musl\.node$/.test(
          path,
        ) && !/licen[cs]e/i.test(path),
    );
    expect(notAtRuntime).toEqual([]);
    expect(paths.filter((path) => path.includes('/etc/latchkey/enroll.json'))).toEqual([]);
  });

  it('declares what it needs, its conffiles and its scripts (dpkg-deb -I)', () => {
    const info = execFileSync('dpkg-deb', ['-I', deb('latchkey')], { encoding: 'utf8' });
    expect(info).toMatch(/^ Package: latchkey$/m);
    expect(info).toMatch(new RegExp(`^ Version: ${VERSION}$`, 'm'));
    expect(info).toMatch(/^ Depends: .*libc6 \(>= [\d.]+\).*libpam0g.*libpam-runtime.*debconf/m);
    for (const file of ['postinst', 'prerm', 'postrm', 'config', 'templates', 'conffiles', 'md5sums'])
      expect(info).toContain(` ${file}`);
    expect(execFileSync('dpkg-deb', ['-f', deb('latchkey'), 'Installed-Size'], { encoding: 'utf8' }).trim()).toMatch(
      /^\d+$/,
    );
    const conffiles = execFileSync(
      'sh',
      ['-c', `dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles`, 'sh', deb('latchkey')],
      { encoding: 'utf8' },
    );
    expect(conffiles.trim().split('\n')).toEqual(['/etc/latchkey/agent.json', '/etc/pam.d/latchkey-enroll']);
    const ccInfo = execFileSync('dpkg-deb', ['-I', deb('latchkey-control-center')], { encoding: 'utf8' });
    expect(ccInfo).toMatch(/^ Depends: .*adduser/m);
  });

  it('lintian finds no error, and every warning left is explained in docs/deployment.md', () => {
    const run = spawnSync(
      'nice',
      [...NICE, 'lintian', '--tag-display-limit', '0', deb('latchkey'), deb('latchkey-control-center')],
      { encoding: 'utf8', timeout: 300_000 },
    );
    const tags = run.stdout.split('\n').filter((line) => /^[EWIO]: /.test(line));
    expect(tags.filter((line) => line.startsWith('E: '))).toEqual([]);
    const docs = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
    const warnings = new Set(tags.filter((line) => line.startsWith('W: ')).map((line) => line.split(' ')[2]!));
    for (const tag of warnings) expect(docs, `docs/deployment.md explains lintian's ${tag}`).toContain(`\`${tag}\``);
  }, 300_000);
});

describe('on a workstation (apt, in a private copy of this machine)', () => {
  it("installs with apt and enables the PAM profile; the machine's own stacks are untouched", () => {
    apt(['install', '-y', deb('latchkey')]);
    const auth = readFileSync(inside('/etc/pam.d/common-auth'), 'utf8');
    expect(auth).toMatch(/^auth\s+\[success=\d+ default=ignore\]\s+pam_latchkey\.so/m);
    expect(readFileSync('/etc/pam.d/common-auth', 'utf8')).not.toContain('pam_latchkey');
    expect(statSync(inside(PAM_MODULE)).mode & 0o7777).toBe(0o644);
    expect(readFileSync(inside('/etc/latchkey/agent.json'), 'utf8')).toMatch(/"offlineMode": false/); // R1
    expect(latchkey(['--version']).stdout.trim()).toBe(VERSION);
  });

  it('loads every runtime dependency from the installed tree, under the shipped flags', () => {
    const run = sandbox.run([
      '/usr/lib/latchkey/node/bin/node',
      '--lite-mode',
      '--no-expose-wasm',
      '--single-threaded-gc',
      join(ROOT, 'test/installer/helpers/load-check.mjs'),
      '/usr/lib/latchkey',
    ]);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { loaded: string[]; outside: string[] };
    expect(result.loaded).toHaveLength(16);
    expect(result.outside).toEqual([]);
  });

  it('has units systemd-analyze verifies, with the exposure docs/deployment.md quotes', () => {
    apt(['install', '-y', deb('latchkey-control-center')]);
    const docs = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
    for (const unit of [AGENT_UNIT, CC_UNIT]) {
      const verify = sandbox.run(['systemd-analyze', 'verify', unit]);
      expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
      expect(verify.status).toBe(0);
      const security = sandbox.run(['systemd-analyze', 'security', '--offline=true', unit]);
      const score = /Overall exposure level for \S+: (\d+\.\d)/.exec(security.stdout)?.[1];
      expect(score).toBeDefined();
      expect(docs).toContain(`| \`${unit.split('/').at(-1)}\` | ${score} |`);
    }
  });

  it('runs the agent as its unit says; a self-enrolled user unlocks through the installed common-auth, once per PIN', async () => {
    sandbox.check(['sh', '-c', `printf '{ "policy": { "offlineMode": true } }\\n' > /etc/latchkey/agent.json`]);
    // A uid far from the ones other tests give their users on this machine (the sandbox shares its processes).
    sandbox.check([
      'useradd',
      '-M',
      '-d',
      '/nonexistent',
      '-s',
      '/bin/sh',
      '-u',
      String(61_000 + (process.pid % 3_000)),
      USER,
    ]);
    sandbox.check(['chpasswd'], { input: `${USER}:${PASSWORD}\n` });
    sandbox.check([
      'sh',
      '-c',
      `printf '@include common-auth\\naccount required pam_permit.so\\n' > /etc/pam.d/${SERVICE}`,
    ]);
    agent = startService(sandbox, AGENT_UNIT, mdwe);
    await agent.waitFor(/agent\.ready/);
    // The user enrolls themselves: their password through the shipped /etc/pam.d/latchkey-enroll.
    const enrolled = sandbox.run(['runuser', '-u', USER, '--', 'latchkey', 'enroll', '--user', USER, '--json'], {
      input: `${PASSWORD}\n`,
    });
    expect(enrolled.stderr).toBe('');
    uri = (JSON.parse(enrolled.stdout) as { uri: string }).uri;
    const pin = pinAt(uri, 0);
    const accepted = pam(`${pin}\n`);
    expect(accepted.stdout + accepted.stderr).toContain('Unlocked — 24 offline PINs left.');
    expect(accepted.stdout + accepted.stderr).toContain(VERDICT.success);
    const replay = pam(`${pin}\nwrong-password\n`);
    expect(replay.stdout + replay.stderr).toContain("That PIN didn't work");
    expect(replay.stdout + replay.stderr).toContain(VERDICT.authErr);
    const password = pam(`\n${PASSWORD}\n`);
    expect(password.stdout + password.stderr).toMatch(/Offline PIN: [\s\S]*Password: /);
    expect(password.stdout + password.stderr).toContain(VERDICT.success);
    expiresBefore = poolExpiry();
  }, 120_000);

  it('with the agent stopped, the password still unlocks', async () => {
    await agent!.stop();
    const run = pam(`${PASSWORD}\n`);
    expect(run.stdout + run.stderr).toContain(VERDICT.success);
    expect(run.stdout + run.stderr).not.toContain('Offline PIN');
  });
});

describe('with the Control Center package', () => {
  let url: string;
  let adminToken: string;
  let installToken: string;

  it('runs the Control Center as its own user, as its unit says; the first admin token goes to a 0600 file, not the log', async () => {
    expect(sandbox.check(['getent', 'passwd', 'latchkey-control-center'])).toMatch(
      /^latchkey-control-center:x:\d+:\d+:.*:\/var\/lib\/latchkey-control-center:\/usr\/sbin\/nologin$/m,
    );
    const config = statSync(inside('/etc/latchkey/control-center.json'));
    expect(config.mode & 0o7777).toBe(0o640);
    const port = await freePort();
    sandbox.check(['sed', '-i', `s/127\\.0\\.0\\.1:8080/127.0.0.1:${port}/`, '/etc/latchkey/control-center.json']);
    cc = startService(sandbox, CC_UNIT, mdwe);
    url = (await cc.waitFor(/control-center\.listening url=\S+/)).split('url=')[1]!;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const tokenFile = inside('/var/lib/latchkey-control-center/first-admin-token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    adminToken = /lk_admin_[A-Za-z0-9_-]{43}/.exec(readFileSync(tokenFile, 'utf8'))![0];
    expect(cc.output()).not.toContain(adminToken);
    const admin = (args: string[]) =>
      sandbox.check(['latchkey', 'admin', '--url', url, ...args], { env: { LATCHKEY_ADMIN_TOKEN: adminToken } });
    admin(['settings', 'set', 'offlineMode=true', 'offlineAccessDays=7']);
    installToken = (JSON.parse(admin(['--json', 'install-tokens', 'create', '--note', 'preseed'])) as { token: string })
      .token;
  }, 120_000);

  it('enrolls the workstation from a debconf preseed: the token reaches only a 0600 file, the agent uses it, deletes it and takes the signed policy', async () => {
    sandbox.check(['debconf-set-selections'], {
      input: `latchkey latchkey/control-center-url string ${url}\nlatchkey latchkey/install-token password ${installToken}\nlatchkey latchkey/workstation-name string pkg-test-desk\n`,
    });
    apt(['install', '-y', '--reinstall', deb('latchkey')]);
    const enrollFile = inside('/etc/latchkey/enroll.json');
    expect(statSync(enrollFile).mode & 0o777).toBe(0o600);
    expect(statSync(enrollFile).uid).toBe(0);
    expect(JSON.parse(readFileSync(enrollFile, 'utf8'))).toEqual({ url, installToken, name: 'pkg-test-desk' });
    agent = startService(sandbox, AGENT_UNIT, mdwe);
    await agent.waitFor(/workstation\.managed/);
    await agent.waitFor(/enroll-file\.removed/);
    expect(existsSync(enrollFile)).toBe(false);
    expect(existsSync(inside('/var/lib/latchkey/policy.json'))).toBe(true);
    const listed = sandbox.check(['latchkey', 'admin', '--url', url, 'workstations', 'list'], {
      env: { LATCHKEY_ADMIN_TOKEN: adminToken },
    });
    expect(listed).toContain('pkg-test-desk');
    // The signed policy's offlineAccessDays=7 applies to the existing pool at once.
    const days = (poolExpiry() - expiresBefore) / 86_400_000;
    expect(days).toBeGreaterThan(-23.1);
    expect(days).toBeLessThan(-22.9);
    expect(tokenCopies(installToken)).toEqual([]);
  }, 180_000);

  it('upgrades to a rebuilt higher version: state kept, the same pool goes on unlocking', async () => {
    const state = listTree(inside('/var/lib/latchkey'));
    await agent!.stop();
    apt(['install', '-y', deb('latchkey', UPGRADE)]);
    expect(latchkey(['--version']).stdout.trim()).toBe(UPGRADE);
    expect(listTree(inside('/var/lib/latchkey'))).toEqual(expect.arrayContaining(state));
    expect(readFileSync(inside('/etc/pam.d/common-auth'), 'utf8')).toContain('pam_latchkey.so');
    agent = startService(sandbox, AGENT_UNIT, mdwe);
    await agent.waitFor(/workstation\.managed/);
    const run = pam(`${pinAt(uri, 1)}\n`);
    expect(run.stdout + run.stderr).toContain('Unlocked — 23 offline PINs left.');
    expect(run.stdout + run.stderr).toContain(VERDICT.success);
    await agent!.stop();
  }, 180_000);

  it('remove disables the profile: every common-* stack is byte-identical to before, and the state stays', () => {
    apt(['remove', '-y', 'latchkey']);
    for (const [file, bytes] of before)
      expect(readFileSync(inside(file)).equals(bytes), `${file} is as before`).toBe(true);
    expect(existsSync(inside(PAM_MODULE))).toBe(false);
    expect(existsSync(inside('/usr/bin/latchkey'))).toBe(false);
    expect(existsSync(inside('/var/lib/latchkey/workstation.json'))).toBe(true);
    expect(existsSync(inside('/etc/latchkey/agent.json'))).toBe(true); // a changed conffile
  }, 120_000);

  it('purge leaves nothing of Latchkey: no file, directory, user, unit link or debconf answer', async () => {
    await cc!.stop();
    sandbox.check(['userdel', '-f', USER]); // -f: a process of another machine user may share the uid number
    sandbox.check(['rm', '-f', `/etc/pam.d/${SERVICE}`]);
    const installed = ['latchkey', 'latchkey-control-center'].flatMap((name) =>
      execFileSync('dpkg-deb', ['-c', deb(name)], { encoding: 'utf8', maxBuffer: 64 << 20 })
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ./').at(-1)!.replace(/\/$/, '')),
    );
    apt(['purge', '-y', 'latchkey', 'latchkey-control-center']);
    const left = installed.filter((path) => path !== '' && existsSync(inside(`/${path}`)) && !existsSync(`/${path}`));
    expect(left).toEqual([]);
    for (const path of ['/etc/latchkey', '/var/lib/latchkey', '/var/lib/latchkey-control-center', '/run/latchkey'])
      expect(existsSync(inside(path)), path).toBe(false);
    expect(sandbox.run(['getent', 'passwd', 'latchkey-control-center']).status).toBe(2);
    expect(sandbox.run(['getent', 'group', 'latchkey-control-center']).status).toBe(2);
    expect(sandbox.run(['getent', 'passwd', USER]).status).toBe(2);
    for (const db of ['config.dat', 'passwords.dat'])
      expect(readFileSync(inside(`/var/cache/debconf/${db}`), 'utf8')).not.toMatch(/^Name: latchkey\//m);
    // What the upper layers still hold differs from this machine only in logs, caches and package databases.
    const changes = sandbox.changes().filter(({ path }) => !EXPECTED_LEFTOVERS.some((pattern) => pattern.test(path)));
    expect(changes.filter(({ path, kind }) => /latchkey/i.test(path) && kind !== 'deleted')).toEqual([]);
    for (const [file, bytes] of before)
      expect(readFileSync(inside(file)).equals(bytes), `${file} is as before`).toBe(true);
    // Nothing of the machine's own was deleted (only what was hidden above to start clean).
    expect(changes.filter(({ path, kind }) => kind === 'deleted' && !hidden.includes(path))).toEqual([]);
  }, 180_000);
});

/** Bookkeeping of apt, dpkg, debconf, man-db and shadow that any package install leaves (never Latchkey's files). */
const EXPECTED_LEFTOVERS = [
  /^\/var\/log\//,
  /^\/var\/cache\/(apt|debconf|man|ldconfig)\//,
  /^\/var\/lib\/(dpkg|apt)\//,
  /^\/etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?$/,
  /^\/etc\/ld\.so\.cache$/,
];

function poolExpiry(): number {
  const status = JSON.parse(sandbox.check(['latchkey', 'status', '--user', USER, '--json'])) as {
    pools: { expiresAt: string }[];
  };
  return Date.parse(status.pools[0]!.expiresAt);
}

/** Files in the sandbox's changed layers and /run that hold the token (the install token must be nowhere but its 0600 file until used). */
function tokenCopies(token: string): string[] {
  const found: string[] = [];
  const scan = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const stats = statSync(full, { throwIfNoEntry: false });
      if (!stats) continue;
      if (stats.isDirectory()) scan(full);
      else if (stats.isFile() && stats.size < 16 << 20 && readFileSync(full).includes(token)) found.push(full);
    }
  };
  scan(sandbox.upperDir('etc'));
  scan(sandbox.upperDir('var'));
  scan(inside('/run'));
  if (agent?.output().includes(token)) found.push('the agent log');
  if (cc?.output().includes(token)) found.push('the Control Center log');
  return found;
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  const visit = (path: string, relative: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      out.push(`${relative}${name}`);
      if (statSync(full).isDirectory()) visit(full, `${relative}${name}/`);
    }
  };
  visit(dir, '');
  return out.sort();
}
