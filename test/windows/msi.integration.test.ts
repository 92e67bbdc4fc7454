/**
 * The MSI (docs/windows.md §9) under wine's msiexec: built by installer/msi/build-msi.mjs, installed
 * silently with the properties of a push, its registry entries, service and enrollment file
 * checked, installed again with new properties (it reconfigures), then removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_CLSID, ROOT, WinePrefix, mingw, waitFor, windowsPath } from './helpers/wine.js';

const TOKEN = `lk_install_${'Ab3_-'.repeat(8)}Ab3`;
const NEW_TOKEN = `lk_install_${'Zz9'.repeat(14)}Z`;
const INSTALLED = 'C:\\Program Files\\Latchkey';

let wine: WinePrefix;
let out: string;
let msi: string;
const programFiles = (...parts: string[]) => wine.driveC('Program Files', 'Latchkey', ...parts);
const programData = (...parts: string[]) => wine.driveC('ProgramData', 'Latchkey', ...parts);
const enrollFile = () => JSON.parse(readFileSync(programData('enroll.json'), 'utf8')) as Record<string, string>;

function msiexec(args: string[]): { status: number | null; log: string } {
  const log = join(wine.dir, `msiexec-${Date.now()}.log`);
  const run = wine.run(['msiexec', ...args, '/qn', '/l*v', windowsPath(log)], { allowFailure: true, timeout: 300_000 });
  return { status: run.status, log: wine.readText(log) };
}

/** msiexec /i with these properties (NAME=value): it must succeed. */
function install(...properties: string[]) {
  const run = msiexec(['/i', windowsPath(msi), ...properties]);
  expect(run.status).toBe(0);
  return run;
}

/** HKLM and HKCU as `reg export` writes them (UTF-16). */
function registryText(): string {
  return ['HKLM', 'HKCU']
    .map((hive) => {
      const file = join(wine.dir, `${hive}.reg`);
      wine.run(['reg', 'export', hive, windowsPath(file), '/y']);
      return readFileSync(file, 'utf16le');
    })
    .join('\n');
}

const regQuery = (key: string) => wine.run(['reg', 'query', key], { allowFailure: true });

beforeAll(() => {
  out = mkdtempSync('/tmp/latchkey-msi-');
  execFileSync(process.execPath, [join(ROOT, 'native', 'windows', 'build-windows.mjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync(process.execPath, [join(ROOT, 'installer', 'msi', 'build-msi.mjs'), '--out', out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  msi = join(out, 'latchkey-0.1.0-x64.msi');
  wine = WinePrefix.create();
}, 600_000);

afterAll(async () => {
  await wine?.destroy();
  if (out) rmSync(out, { recursive: true, force: true });
}, 120_000);

describe('the MSI', () => {
  it('carries node.exe, the provider, the service wrapper, its custom action and the app', () => {
    // in `out`: exporting the Binary table writes its streams next to the working directory
    const tables = (table: string) => execFileSync('msiinfo', ['export', msi, table], { encoding: 'utf8', cwd: out });
    const files = tables('File');
    for (const name of [
      'node.exe',
      'latchkey-cp.dll',
      'latchkey-service.exe',
      'latchkey.js',
      'argon2.win32-x64-msvc.node',
      'koffi.node',
    ])
      expect(files).toContain(name);
    expect(tables('Binary')).toContain('LatchkeyMsi');
    expect(tables('Property')).toMatch(/MsiHiddenProperties\tINSTALLTOKEN;/);
    expect(tables('ServiceInstall')).toMatch(/LatchkeyAgent\tLatchkey agent\t16\t2\t1\t\t\tLocalSystem/);
  });

  it('installs silently with the properties of a push', () => {
    const run = install('CONTROLCENTERURL=https://cc.example.com', `INSTALLTOKEN=${TOKEN}`, 'WORKSTATIONNAME=desk-042');
    expect(run.log).toContain('latchkey: the agent enrolls this workstation at its next start');
    for (const part of [
      'node/node.exe',
      'latchkey-cp.dll',
      'latchkey-service.exe',
      'app/bin/latchkey.js',
      'app/dist/cli/main.js',
    ])
      expect(existsSync(programFiles(...part.split('/')))).toBe(true);
  }, 300_000);

  it('registers the provider by CLSID and under Credential Providers', () => {
    expect(regQuery(`HKLM\\SOFTWARE\\Classes\\CLSID\\${PROVIDER_CLSID}\\InprocServer32`).stdout).toMatch(
      /\(Default\)\s+REG_SZ\s+C:\\Program Files\\Latchkey\\latchkey-cp\.dll[\s\S]*ThreadingModel\s+REG_SZ\s+Apartment/,
    );
    expect(
      regQuery(
        `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Authentication\\Credential Providers\\${PROVIDER_CLSID}`,
      ).stdout,
    ).toMatch(/\(Default\)\s+REG_SZ\s+Latchkey/);
  });

  it('installs LatchkeyAgent: the wrapper running node.exe with the agent, automatic, as LocalSystem', async () => {
    const service = regQuery('HKLM\\System\\CurrentControlSet\\Services\\LatchkeyAgent').stdout;
    // Windows Installer quotes the program's path; wine's msiexec does not (docs/windows.md §10)
    const imagePath = /ImagePath\s+REG_SZ\s+(.*)/
      .exec(service)![1]!
      .trim()
      .replace(/^"([^"]*)"/, '$1');
    expect(imagePath).toBe(
      `${INSTALLED}\\latchkey-service.exe -- "${INSTALLED}\\node\\node.exe" --lite-mode --no-expose-wasm --single-threaded-gc "${INSTALLED}\\app\\bin\\latchkey.js" agent --stop-on-stdin-close`,
    );
    expect(service).toMatch(/Start\s+REG_DWORD\s+0x2/);
    expect(service).toMatch(/ObjectName\s+REG_SZ\s+LocalSystem/);
    // the installer started it: the wrapper ran the agent
    await waitFor(
      "the wrapper's first line",
      () => wine.readText(programData('agent.log')).includes('latchkey-service: started the agent'),
      60_000,
    );
  }, 90_000);

  it('writes the enrollment file of docs/deployment.md, and the token nowhere in the registry', () => {
    expect(enrollFile()).toEqual({ url: 'https://cc.example.com', installToken: TOKEN, name: 'desk-042' });
    const registry = registryText();
    expect(registry).toContain(PROVIDER_CLSID); // the export is the real registry
    expect(registry).not.toContain(TOKEN);
  });

  it('the app runs under the installed node.exe, win32 prebuilt addons included', () => {
    const prng = mingw(
      wine.driveC('windows', 'system32', 'bcryptprimitives.dll'),
      [join(ROOT, 'test', 'windows', 'c', 'process-prng-stand-in.c')],
      ['-shared', '-lbcrypt'],
    );
    expect(existsSync(prng)).toBe(true);
    const node = programFiles('node', 'node.exe');
    expect(wine.run([node, `${INSTALLED}\\app\\bin\\latchkey.js`, '--version']).stdout.trim()).toBe('0.1.0');
    const load =
      "const r = require('module').createRequire(process.argv[1]); const a = r('@node-rs/argon2'); console.log(JSON.stringify({ koffi: typeof r('koffi').load, keyring: typeof r('@napi-rs/keyring').Entry, argon2: a.hashRawSync('pin', { salt: Buffer.alloc(16), memoryCost: 8, timeCost: 1, outputLen: 8, algorithm: 2 }).length }))";
    const saved = wine.env.WINEDLLOVERRIDES;
    wine.env.WINEDLLOVERRIDES = `${saved};bcryptprimitives=n`;
    try {
      expect(JSON.parse(wine.run([node, '-e', load, `${INSTALLED}\\app\\package.json`]).stdout)).toEqual({
        koffi: 'function',
        keyring: 'function',
        argon2: 8,
      });
    } finally {
      wine.env.WINEDLLOVERRIDES = saved;
    }
  }, 60_000);

  it('installed again with new properties, it reconfigures: a new enrollment file', () => {
    install('CONTROLCENTERURL=https://cc2.example.com', `INSTALLTOKEN=${NEW_TOKEN}`);
    expect(enrollFile()).toEqual({ url: 'https://cc2.example.com', installToken: NEW_TOKEN });
    expect(registryText()).not.toContain(NEW_TOKEN);
  }, 300_000);

  it('a token of the wrong shape is a warning naming the property; the install goes on and the file stays', () => {
    const run = install('CONTROLCENTERURL=https://cc3.example.com', 'INSTALLTOKEN=not-a-token');
    expect(run.log).toContain(
      'latchkey: INSTALLTOKEN is not an install token (lk_install_...); this workstation is not enrolled',
    );
    expect(enrollFile().url).toBe('https://cc2.example.com');
  }, 300_000);

  it('uninstalls: the service, the registration and the program files go; the state in ProgramData stays', async () => {
    // The install before started the service without waiting: let that start finish (RUNNING, the
    // agent on its pipe) — wine's msiexec fails on a pending service. Then stop it here: wine's
    // msiexec does not wait for a running service to stop before it removes the files, so the
    // running node.exe and wrapper would stay behind (docs/windows.md §10; Windows Installer waits).
    await waitFor('the service to settle', () =>
      /RUNNING|STOPPED/.test(wine.run(['sc', 'query', 'LatchkeyAgent'], { allowFailure: true }).stdout),
    );
    wine.sc(['stop', 'LatchkeyAgent'], true);
    await waitFor('the service to stop', () => wine.serviceState('LatchkeyAgent') === 'STOPPED', 60_000);
    const run = msiexec(['/x', windowsPath(msi)]);
    expect(run.status).toBe(0);
    expect(existsSync(programFiles())).toBe(false);
    expect(regQuery(`HKLM\\SOFTWARE\\Classes\\CLSID\\${PROVIDER_CLSID}`).status).not.toBe(0);
    expect(
      regQuery(
        `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Authentication\\Credential Providers\\${PROVIDER_CLSID}`,
      ).status,
    ).not.toBe(0);
    expect(regQuery('HKLM\\System\\CurrentControlSet\\Services\\LatchkeyAgent').status).not.toBe(0);
    expect(existsSync(programData('enroll.json'))).toBe(true);
  }, 300_000);
});
