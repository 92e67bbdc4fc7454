#!/usr/bin/env node
// Makes sure the system packages the test suite drives for real are present (npm test runs
// this first). As root it installs what is missing with apt-get (update first); otherwise it
// names exactly what is missing and exits non-zero. Add a row when a test needs a new tool.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// One row a tool: what must exist (a command on PATH, an absolute path, or lib:NAME for a shared
// library) | the Debian package that brings it | why the tests need it.
const REQUIREMENTS = rows(`
  dbus-run-session           | dbus                      | a private session bus for the Secret Service keystore tests
  dbus-daemon                | dbus                      | a private session bus for the Secret Service keystore tests
  gnome-keyring-daemon       | gnome-keyring             | the real Secret Service behind the OS-keychain backend
  lib:libsecret-1.so.0       | libsecret-1-0             | the Secret Service client library
  oathtool                   | oathtool                  | interop: numeric offline PINs must equal RFC 4226 codes from an independent tool
  faketime                   | faketime                  | runs the real agent with the wall clock set back (anti-hammering)
  lib:libpam.so.0            | libpam0g                  | agent/system binds libpam through koffi to check passwords
  useradd                    | passwd                    | the password-check and user-lookup tests create real local users
  chpasswd                   | passwd                    | the password-check tests set a real password
  chage                      | passwd                    | the password-check tests expire a real account
  /usr/include/security/pam_modules.h | libpam0g-dev              | pam_latchkey.so is compiled against the PAM headers (native/)
  cc                         | gcc                       | node-gyp compiles pam_latchkey.so
  make                       | make                      | node-gyp compiles pam_latchkey.so
  nm                         | binutils                  | the module test checks which symbols pam_latchkey.so exports
  pamtester                  | pamtester                 | drives pam_latchkey.so through a real PAM stack
  clang                      | clang                     | libFuzzer harnesses and sanitizer builds of the PAM module parsers
  /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a | libclang-rt-14-dev        | the libFuzzer runtime
  valgrind                   | valgrind                  | runs the pamtester flows with pam_latchkey.so under memcheck
  Xvfb                       | xvfb                      | a headless X server for the screen-locker test
  i3lock                     | i3lock                    | a real screen locker that unlocks through PAM
  xdotool                    | xdotool                   | types the offline PIN into the screen locker
  socat                      | socat                     | catches what pam_latchkey.so sends to syslog (a /dev/log socket in a private namespace)
  openssl                    | openssl                   | a self-signed certificate for the Control Center HTTPS test
  socat                      | socat                     | the BLE virtual controller gives each host a pseudo-terminal (two processes as two machines)
  ip                         | iproute2                  | the README test runs the README's blocks in their own network namespace (127.0.0.1:8080 is theirs)
  unshare                    | util-linux                | the README test runs the README's blocks in private mount, PID and network namespaces
  tshark                     | tshark                    | Wireshark's dissector must open the BLE virtual controller's btsnoop captures
  /usr/bin/chromium          | chromium                  | the web console test drives a real Chromium through playwright-core (never a downloaded browser)
  dpkg-shlibdeps             | dpkg-dev                  | the .deb build computes the packages' shared-library dependencies (installer/deb)
  lintian                    | lintian                   | the package test checks both .debs with lintian
  systemd-analyze            | systemd                   | the package test verifies the units and measures their exposure (systemd-analyze)
  rpmbuild                   | rpm                       | npm run package:rpm builds the .rpms; the test checks them with rpm -qlp and rpm -K
  adduser                    | adduser                   | the Control Center package's scripts create its system user (inside the package test's sandbox)
  setpriv                    | util-linux                | the package test starts the services as their units say (user, no-new-privs, capability bounding set)
  wine                       | wine                      | the Windows tests run the credential provider, the service wrapper, node.exe and msiexec under wine (test/windows)
  /usr/lib/wine/wine64       | wine64                    | the Windows parts and node.exe are 64-bit: wine64 runs them
  x86_64-w64-mingw32-gcc     | gcc-mingw-w64-x86-64      | npm run build:windows cross-builds the provider DLL, the service wrapper and the harness with mingw-w64
  x86_64-w64-mingw32-objdump | binutils-mingw-w64-x86-64 | the Windows build test reads the provider DLL's exports and imports
  wixl                       | wixl                      | npm run package:msi builds the MSI from a WiX .wxs
  msiinfo                    | msitools                  | the MSI test reads the MSI's tables
`);

/** The rows of a `what | package | why` table, one a line; a row without its three cells is refused. */
function rows(table) {
  return table
    .trim()
    .split('\n')
    .map((line) => {
      const cells = line.split('|').map((cell) => cell.trim());
      if (cells.length !== 3 || cells.includes(''))
        throw new Error(`a requirement needs what | package | why: ${line}`);
      return cells;
    });
}

function present(what) {
  if (what.startsWith('/')) return existsSync(what);
  if (what.startsWith('lib:')) {
    const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
    return cache.includes(what.slice(4));
  }
  return spawnSync('sh', ['-c', `command -v ${what}`], { stdio: 'ignore' }).status === 0;
}

const missing = REQUIREMENTS.filter(([what]) => !present(what));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map(([, pkg]) => pkg))];
const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  process.stderr.write('The tests need these system packages, which are missing:\n');
  for (const [what, pkg, why] of missing) process.stderr.write(`  ${pkg.padEnd(16)} (${what}: ${why})\n`);
  process.stderr.write(
    `Install them as root, or run npm test as root:\n  apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}\n`,
  );
  process.exit(1);
}

process.stdout.write(`Installing system packages for the tests: ${packages.join(' ')}\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
} catch (error) {
  process.stderr.write(`apt-get failed (${error.message}); install by hand: ${packages.join(' ')}\n`);
  process.exit(1);
}
const still = REQUIREMENTS.filter(([what]) => !present(what));
if (still.length > 0) {
  process.stderr.write(`Still missing after apt-get: ${still.map(([what]) => what).join(', ')}\n`);
  process.exit(1);
}
