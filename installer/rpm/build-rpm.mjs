#!/usr/bin/env node
// npm run package:rpm — the same two packages as .rpm, from the same staging trees
// (installer/staging.mjs), with the paths RPM distributions use: units in
// /usr/lib/systemd/system, the PAM module in /usr/lib64/security, no pam-auth-update profile
// (authselect owns the stacks there; docs/deployment.md says what to add). Built here with
// Debian's rpmbuild, checked with rpm -qlp and rpm -K, not installed.
//
//   --version V, --out DIR, --only NAME     as for package:deb
//   --compression xz|gzip                   payload compression (default xz)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MAINTAINER, HOMEPAGE, MULTIARCH, PACKAGES, ROOT, stagePackage } from '../staging.mjs';
import { runPackageBuild } from '../build-command.mjs';
import { installedSizeKiB, walkTree } from '../tree.mjs';

const HERE = join(ROOT, 'installer', 'rpm');
/** Debian path → RPM path; null drops the file (Debian-only machinery). */
const REMAP = [
  [/^lib\/systemd\/system\//, 'usr/lib/systemd/system/'],
  [new RegExp(`^lib/${MULTIARCH}/security/`), 'usr/lib64/security/'],
  [/^usr\/share\/pam-configs(\/|$)/, null],
  [/^usr\/share\/lintian(\/|$)/, null],
];

function remap(path) {
  for (const [pattern, replacement] of REMAP)
    if (pattern.test(path)) return replacement === null ? null : path.replace(pattern, replacement);
  return path;
}

/** The Debian staging tree re-laid for RPM under `rpmRoot`. */
function rpmTree(debRoot, rpmRoot) {
  rmSync(rpmRoot, { recursive: true, force: true });
  for (const { path, full, stats } of walkTree(debRoot, ['DEBIAN'])) {
    const target = remap(path);
    if (target === null || stats.isDirectory()) continue;
    mkdirSync(join(rpmRoot, dirname(target)), { recursive: true });
    cpSync(full, join(rpmRoot, target), { verbatimSymlinks: true });
  }
  return rpmRoot;
}

/** %files: the package's own directories (%dir), conffiles as %config(noreplace), the rest. */
function filesSection(name, rpmRoot) {
  const spec = PACKAGES[name];
  const shared = new Set([
    'etc',
    'usr',
    'usr/bin',
    'usr/sbin',
    'usr/lib',
    'usr/lib64',
    'usr/lib64/security',
    'usr/lib/systemd',
    'usr/lib/systemd/system',
    'usr/share',
    'usr/share/doc',
    'usr/share/man',
    'usr/share/man/man1',
    'usr/share/man/man8',
    'etc/pam.d',
  ]);
  const lines = [];
  for (const { path, stats } of walkTree(rpmRoot)) {
    const quoted = `"/${path}"`;
    if (stats.isDirectory()) {
      if (!shared.has(path)) lines.push(`%dir ${quoted}`);
    } else if (spec.conffiles.includes(`/${path}`)) {
      const attr = path === 'etc/latchkey/control-center.json' ? '%attr(0640,root,latchkey-control-center) ' : '';
      lines.push(`%config(noreplace) ${attr}${quoted}`);
    } else {
      lines.push(quoted);
    }
  }
  return lines.join('\n');
}

function specFile(name, version, rpmRoot) {
  const spec = PACKAGES[name];
  const scriptlet = (part) => {
    try {
      return `%${part}\n${readFileSync(join(HERE, `${name}.${part}`), 'utf8')}`;
    } catch {
      return '';
    }
  };
  return `Name: ${name}
Version: ${version}
Release: 1
Summary: ${spec.summary}
License: Apache-2.0
URL: ${HOMEPAGE}
Packager: ${MAINTAINER}
BuildArch: x86_64
AutoProv: no
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _build_id_links none

%description
${spec.description.join('\n')}

%install
cp -a "${rpmRoot}/." "%{buildroot}/"

${scriptlet('pre')}
${scriptlet('post')}
${scriptlet('preun')}
${scriptlet('postun')}
%files
${filesSection(name, rpmRoot)}
`;
}

function buildRpm(name, { version, staging, appDir, cacheDir, out, compression }) {
  const debRoot = stagePackage(name, { root: join(staging, name), appDir, cacheDir, version });
  const rpmRoot = rpmTree(debRoot, join(staging, `${name}.rpm-root`));
  const top = join(staging, `${name}.rpmbuild`);
  rmSync(top, { recursive: true, force: true });
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  const specPath = join(top, 'SPECS', `${name}.spec`);
  writeFileSync(specPath, specFile(name, version, rpmRoot));
  const payload = compression === 'xz' ? 'w6.xzdio' : 'w6.gzdio';
  execFileSync(
    'rpmbuild',
    [
      '-bb',
      '--quiet',
      '--define',
      `_topdir ${top}`,
      '--define',
      `_binary_payload ${payload}`,
      '--define',
      '_rpmfilename %{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm',
      specPath,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const file = join(out, `${name}-${version}-1.x86_64.rpm`);
  renameSync(join(top, 'RPMS', `${name}-${version}-1.x86_64.rpm`), file);
  return { file, installedKiB: installedSizeKiB(rpmRoot, []) };
}

runPackageBuild({ label: 'rpm', versionPattern: /^[0-9][A-Za-z0-9.+~]*$/, build: buildRpm });
