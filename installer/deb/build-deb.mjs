#!/usr/bin/env node
// npm run package:deb — builds dist-packages/latchkey_VERSION_amd64.deb and
// dist-packages/latchkey-control-center_VERSION_amd64.deb from the staging trees
// (installer/staging.mjs) and prints each one's installed size (docs/deployment.md "Building").
//
//   --version V            package version (default: package.json's)
//   --out DIR              where the packages go (default dist-packages/)
//   --only NAME            build one of the two packages
//   --compression xz|gzip  data compression (default xz; gzip builds faster and is bigger)
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOMEPAGE, MAINTAINER, PACKAGES, ROOT, stagePackage } from '../staging.mjs';
import { runPackageBuild } from '../build-command.mjs';
import { installedSizeKiB, md5sums } from '../tree.mjs';
import { systemdSnippets } from './systemd-snippets.mjs';

const HERE = join(ROOT, 'installer', 'deb');
/** Dependencies the maintainer scripts and units bring, beside the shared libraries. */
const DEPENDS = {
  latchkey: ['libpam-runtime (>= 1.0.1-6)', 'debconf (>= 0.5) | debconf-2.0', 'init-system-helpers (>= 1.52)'],
  'latchkey-control-center': ['adduser', 'init-system-helpers (>= 1.52)'],
};
const MAINTAINER_SCRIPTS = ['config', 'postinst', 'prerm', 'postrm'];

/** shlibs:Depends of every ELF object in the tree, through dpkg-shlibdeps. */
function sharedLibraryDepends(root, elves) {
  const work = mkdtempSync(join(root, '..', '.shlibdeps-'));
  try {
    mkdirSync(join(work, 'debian'));
    writeFileSync(join(work, 'debian', 'control'), 'Source: latchkey\n\nPackage: latchkey\nArchitecture: amd64\n');
    const out = execFileSync('dpkg-shlibdeps', ['-O', '--warnings=0', ...elves.map((file) => `-e${file}`)], {
      cwd: work,
      encoding: 'utf8',
    });
    return /^shlibs:Depends=(.*)$/m.exec(out)?.[1].split(', ') ?? [];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function elfObjects(root) {
  const out = execFileSync(
    'find',
    [root, '-type', 'f', '(', '-name', '*.so', '-o', '-name', '*.node', '-o', '-path', '*/node/bin/node', ')'],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter(Boolean);
}

function controlFile(name, version, root) {
  const spec = PACKAGES[name];
  const depends = [...sharedLibraryDepends(root, elfObjects(root)), ...DEPENDS[name]];
  return [
    `Package: ${name}`,
    `Version: ${version}`,
    'Architecture: amd64',
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedSizeKiB(root)}`,
    `Depends: ${depends.join(', ')}`,
    'Section: admin',
    'Priority: optional',
    `Homepage: ${HOMEPAGE}`,
    `Description: ${spec.summary}`,
    ...spec.description.map((line) => ` ${line}`),
    '',
  ].join('\n');
}

/** DEBIAN/: control, conffiles, md5sums, maintainer scripts with the unit's snippets, templates. */
function writeControlArea(name, version, root) {
  const spec = PACKAGES[name];
  const debian = join(root, 'DEBIAN');
  mkdirSync(debian, { recursive: true });
  writeFileSync(join(debian, 'md5sums'), md5sums(root));
  writeFileSync(join(debian, 'control'), controlFile(name, version, root));
  writeFileSync(join(debian, 'conffiles'), `${spec.conffiles.join('\n')}\n`);
  const snippets = systemdSnippets(spec.unit);
  for (const script of MAINTAINER_SCRIPTS) {
    let text;
    try {
      text = readFileSync(join(HERE, name, script), 'utf8');
    } catch {
      continue;
    }
    for (const [marker, snippet] of Object.entries(snippets)) text = text.replace(marker, snippet);
    writeFileSync(join(debian, script), text);
    chmodSync(join(debian, script), 0o755);
  }
  try {
    writeFileSync(join(debian, 'templates'), readFileSync(join(HERE, name, 'templates')));
  } catch {
    // this package asks no question
  }
  for (const file of ['control', 'conffiles', 'md5sums', 'templates']) {
    try {
      chmodSync(join(debian, file), 0o644);
    } catch {
      // not written for this package
    }
  }
}

function buildDeb(name, { version, staging, appDir, cacheDir, out, compression }) {
  const root = stagePackage(name, { root: join(staging, name), appDir, cacheDir, version });
  writeControlArea(name, version, root);
  const file = join(out, `${name}_${version}_amd64.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '-z6', '--build', root, file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { file, installedKiB: installedSizeKiB(root, ['DEBIAN']) };
}

runPackageBuild({ label: 'deb', versionPattern: /^[0-9][A-Za-z0-9.+~-]*$/, build: buildDeb });
