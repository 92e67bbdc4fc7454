// The staging trees both package formats are built from (docs/deployment.md): one directory
// per package laid out exactly as it lands on the machine. The .deb and the .rpm only wrap
// these trees; what is in them is decided here.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { installNodeRuntime } from './node-runtime.mjs';
import { pruneNodeModules } from './prune.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = join(ROOT, 'installer', 'files');
const UNITS = join(ROOT, 'installer', 'systemd');
export const MULTIARCH = 'x86_64-linux-gnu';
export const MAINTAINER = 'Latchkey maintainers <latchkey@packages.invalid>';
export const HOMEPAGE = 'https://github.com/latchkey/latchkey';

/** What each package is; `files` maps a path in the package to its source and mode. */
export const PACKAGES = {
  latchkey: {
    summary: 'unlock the workstation with your phone (agent and PAM module)',
    description: [
      'Latchkey unlocks a Linux workstation with a phone: a push approval online,',
      'a one-time offline PIN typed at the normal login or lock screen, or',
      'Bluetooth with a paired phone. This package holds the agent (a system',
      'service with its own Node.js runtime), the latchkey command, and the PAM',
      'module pam_latchkey.so with its pam-auth-update profile. Offline PINs',
      'stay off until an administrator turns Offline Mode on.',
    ],
    prefix: '/usr/lib/latchkey',
    unit: 'latchkey-agent.service',
    conffiles: ['/etc/latchkey/agent.json', '/etc/pam.d/latchkey-enroll'],
    files: [
      ['/usr/bin/latchkey', join(FILES, 'latchkey.sh'), 0o755],
      [`/lib/${MULTIARCH}/security/pam_latchkey.so`, join(ROOT, 'build', 'Release', 'pam_latchkey.so'), 0o644],
      ['/usr/share/pam-configs/latchkey', join(ROOT, 'native', 'pam', 'pam-configs', 'latchkey'), 0o644],
      ['/etc/latchkey/agent.json', join(FILES, 'agent.json'), 0o644],
      ['/etc/pam.d/latchkey-enroll', join(FILES, 'latchkey-enroll.pam'), 0o644],
      ['/lib/systemd/system/latchkey-agent.service', join(UNITS, 'latchkey-agent.service'), 0o644],
      ['/usr/share/lintian/overrides/latchkey', join(FILES, 'lintian-overrides.latchkey'), 0o644],
    ],
    manPages: [['latchkey.1', 'man1']],
  },
  'latchkey-control-center': {
    summary: 'Latchkey Control Center server',
    description: [
      'The Latchkey Control Center holds Workstation Settings, enrolls',
      'workstations, relays online sign-ins and offline-PIN pools between agents',
      'and phones, and keeps the audit. This package holds the server: a system',
      'service running as its own user, with its own Node.js runtime and an',
      'embedded SQLite database under /var/lib/latchkey-control-center.',
    ],
    prefix: '/usr/lib/latchkey-control-center',
    unit: 'latchkey-control-center.service',
    conffiles: ['/etc/latchkey/control-center.json'],
    files: [
      ['/usr/sbin/latchkey-control-center', join(FILES, 'latchkey-control-center.sh'), 0o755],
      ['/etc/latchkey/control-center.json', join(FILES, 'control-center.json'), 0o644],
      ['/lib/systemd/system/latchkey-control-center.service', join(UNITS, 'latchkey-control-center.service'), 0o644],
      [
        '/usr/share/lintian/overrides/latchkey-control-center',
        join(FILES, 'lintian-overrides.latchkey-control-center'),
        0o644,
      ],
    ],
    manPages: [['latchkey-control-center.8', 'man8']],
  },
};

export function packageVersion() {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
}

function requireBuilt() {
  const missing = [
    join(ROOT, 'dist', 'cli', 'main.js'),
    join(ROOT, 'build', 'Release', 'pam_latchkey.so'),
    join(ROOT, 'node_modules'),
  ].filter((file) => !existsSync(file));
  if (missing.length > 0)
    throw new Error(`not built: ${missing.join(', ')} missing; run npm ci (or npm run build) first`);
}

/**
 * The application as it ships, shared by both packages (and the MSI): package.json (runtime fields
 * only, the package's version), bin/latchkey.js, dist/ without source maps, and the production
 * dependencies, pruned: for Linux those npm already built; for Windows (`platform` 'win32-x64')
 * a fresh `npm ci` of the same lockfile for win32, which brings the win32 prebuilt addons.
 */
export function stageApp(appDir, version, platform = 'linux-x64') {
  requireBuilt();
  rmSync(appDir, { recursive: true, force: true });
  mkdirSync(join(appDir, 'bin'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeFileSync(
    join(appDir, 'package.json'),
    `${JSON.stringify({ name: manifest.name, version, description: manifest.description, license: manifest.license, private: true, type: manifest.type, bin: manifest.bin, engines: manifest.engines, dependencies: manifest.dependencies }, null, 2)}\n`,
  );
  copyFileSync(join(ROOT, 'package-lock.json'), join(appDir, 'package-lock.json'));
  // Run by the bundled node (/usr/bin/latchkey, the units), never through its shebang, which
  // would find another node: the staged copy has none.
  const bin = readFileSync(join(ROOT, 'bin', 'latchkey.js'), 'utf8').replace(/^#!.*\n/, '');
  writeFileSync(join(appDir, 'bin', 'latchkey.js'), bin, { mode: 0o644 });
  cpSync(join(ROOT, 'dist'), join(appDir, 'dist'), { recursive: true, filter: (source) => !source.endsWith('.map') });
  if (platform === 'linux-x64') {
    cpSync(join(ROOT, 'node_modules'), join(appDir, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    // Drops devDependencies (and what only they needed) offline, with the lockfile as the list.
    execFileSync(
      'npm',
      [
        'prune',
        '--omit=dev',
        '--omit=peer',
        '--offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: appDir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  } else {
    const [os, cpu] = platform.split('-');
    execFileSync(
      'npm',
      [
        'ci',
        '--omit=dev',
        '--omit=peer',
        `--os=${os}`,
        `--cpu=${cpu}`,
        '--ignore-scripts',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: appDir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  rmSync(join(appDir, 'package-lock.json'));
  pruneNodeModules(join(appDir, 'node_modules'), platform);
}

function changelog(name, version) {
  const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000)) * 1000)
    .toUTCString()
    .replace(/GMT$/, '+0000');
  return `${name} (${version}) unstable; urgency=medium\n\n  * Built from the Latchkey repository (see its git log for the changes).\n\n -- ${MAINTAINER}  ${date}\n`;
}

/** Lays out one package's tree under `root`: its files, the app with the runtime, the docs. */
export function stagePackage(name, { root, appDir, cacheDir, version }) {
  const spec = PACKAGES[name];
  rmSync(root, { recursive: true, force: true });
  const place = (target, source, mode) => {
    const destination = join(root, target);
    mkdirSync(dirname(destination), { recursive: true });
    copyFileSync(source, destination);
    chmodSync(destination, mode);
  };
  for (const [target, source, mode] of spec.files) place(target, source, mode);
  const pamModule = join(root, `lib/${MULTIARCH}/security/pam_latchkey.so`);
  if (existsSync(pamModule))
    execFileSync('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', pamModule]);
  cpSync(appDir, join(root, spec.prefix), { recursive: true, verbatimSymlinks: true });
  installNodeRuntime(cacheDir, join(root, spec.prefix, 'node'));
  const doc = join(root, 'usr', 'share', 'doc', name);
  mkdirSync(doc, { recursive: true });
  copyFileSync(join(FILES, 'copyright'), join(doc, 'copyright'));
  writeFileSync(join(doc, 'changelog.gz'), gzipSync(changelog(name, version), { level: 9 }));
  for (const [page, section] of spec.manPages) {
    mkdirSync(join(root, 'usr', 'share', 'man', section), { recursive: true });
    writeFileSync(
      join(root, 'usr', 'share', 'man', section, `${page}.gz`),
      gzipSync(readFileSync(join(FILES, page)), { level: 9 }),
    );
  }
  execFileSync('chmod', ['-R', 'u=rwX,go=rX', join(root, 'usr')]);
  for (const [target, , mode] of spec.files) chmodSync(join(root, target), mode);
  return root;
}
