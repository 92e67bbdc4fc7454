/**
 * The .rpm packages (npm run package:rpm, docs/deployment.md): built from the same staging
 * trees as the .debs, with RPM paths, checked with rpm -qlp and rpm -K. Not installed: this
 * machine is Debian, and an rpm database here would prove nothing about Fedora or RHEL.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../native/helpers/native-tools.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let out: string;
let buildOutput: string;
const rpm = (name: string) => join(out, `${name}-${VERSION}-1.x86_64.rpm`);
const query = (args: string[]) => execFileSync('rpm', args, { encoding: 'utf8', maxBuffer: 64 << 20 });

beforeAll(() => {
  out = mkdtempSync(`/tmp/latchkey-rpms-${process.pid}-`);
  // Niced: long CPU work next to suites that time a screen locker.
  const run = spawnSync(
    'nice',
    ['-n', '10', process.execPath, join(ROOT, 'installer/rpm/build-rpm.mjs'), '--compression', 'gzip', '--out', out],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  if (run.status !== 0) throw new Error(`build-rpm failed (${run.status}): ${run.stdout}${run.stderr}`);
  buildOutput = run.stdout;
}, 300_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('npm run package:rpm', () => {
  it('builds both packages, prints their installed sizes, and rpm -K finds their digests intact', () => {
    for (const name of ['latchkey', 'latchkey-control-center']) {
      expect(buildOutput).toMatch(
        new RegExp(`${name}-${VERSION.replace(/\./g, '\\.')}-1\\.x86_64\\.rpm: installed size \\d+\\.\\d MiB`),
      );
      expect(query(['-K', rpm(name)])).toMatch(/: digests OK$/m);
    }
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['package:rpm']).toContain(
      'installer/rpm/build-rpm.mjs',
    );
  });

  it('lays the agent out with RPM paths and no Debian machinery (rpm -qlp)', () => {
    const files = query(['-qlp', rpm('latchkey')])
      .trim()
      .split('\n');
    for (const path of [
      '/usr/bin/latchkey',
      '/usr/lib64/security/pam_latchkey.so',
      '/usr/lib/systemd/system/latchkey-agent.service',
      '/etc/latchkey/agent.json',
      '/etc/pam.d/latchkey-enroll',
      '/usr/lib/latchkey/node/bin/node',
      '/usr/lib/latchkey/dist/cli/main.js',
    ]) {
      expect(files).toContain(path);
    }
    expect(
      files.filter(
        (path) =>
          /pam-configs|lintian|\/lib\/x86_64-linux-gnu|\/lib\/systemd\/system/.test(path) &&
          !path.startsWith('/usr/lib/systemd'),
      ),
    ).toEqual([]);
    const config = query(['-qp', '--configfiles', rpm('latchkey')])
      .trim()
      .split('\n')
      .sort();
    expect(config).toEqual(['/etc/latchkey/agent.json', '/etc/pam.d/latchkey-enroll']);
  });

  it('makes the Control Center its own user, with a config only that user can read', () => {
    expect(query(['-qlp', rpm('latchkey-control-center')])).toContain(
      '/usr/lib/systemd/system/latchkey-control-center.service',
    );
    expect(query(['-qp', '--scripts', rpm('latchkey-control-center')])).toMatch(
      /useradd -r -g latchkey-control-center/,
    );
    const modes = query([
      '-qp',
      '--qf',
      '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]',
      rpm('latchkey-control-center'),
    ]);
    expect(modes).toMatch(/^-rw-r----- root latchkey-control-center \/etc\/latchkey\/control-center.json$/m);
    expect(query(['-qp', '--requires', rpm('latchkey')])).toMatch(/^libpam\.so\.0\(\)\(64bit\)$/m);
  });
});
