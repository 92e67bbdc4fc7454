/** How `latchkey doctor` reads /etc/pam.d (cli/doctor/pam-stacks.ts): pam.conf(5) syntax and includes. */
import { describe, expect, it } from 'vitest';
import { moduleOptions, modulePath, parsePamFile, reachOf } from '../../../cli/doctor/pam-stacks.js';

const files = (map: Record<string, string>) => (name: string) => map[name] ?? null;

describe('parsePamFile', () => {
  it('reads types, bracketed controls and arguments, comments and continued lines', () => {
    const entries = parsePamFile(
      [
        '# a comment',
        '@include common-auth',
        'auth  [success=2 default=ignore]  pam_latchkey.so [prompt=PIN from your phone: ] socket=/run/x.sock # trailing',
        '-auth optional pam_gnome_keyring.so',
        'auth required \\',
        '   pam_unix.so nullok',
        'account', // too short: skipped, as libpam does
      ].join('\n'),
    );
    expect(entries).toEqual([
      { kind: 'include', target: 'common-auth', line: 2 },
      {
        kind: 'rule',
        type: 'auth',
        control: '[success=2 default=ignore]',
        module: 'pam_latchkey.so',
        args: ['[prompt=PIN from your phone: ]', 'socket=/run/x.sock'],
        line: 3,
      },
      { kind: 'rule', type: '-auth', control: 'optional', module: 'pam_gnome_keyring.so', args: [], line: 4 },
      { kind: 'rule', type: 'auth', control: 'required', module: 'pam_unix.so', args: ['nullok'], line: 5 },
    ]);
  });

  it('takes options as key=value, bare words as flags, brackets around values with spaces', () => {
    expect(moduleOptions(['debug', 'agent_uid=0', '[prompt=PIN please: ]'])).toEqual({
      debug: true,
      agent_uid: '0',
      prompt: 'PIN please: ',
    });
  });

  it('keeps an escaped bracket inside a bracketed argument', () => {
    const [entry] = parsePamFile('auth sufficient pam_latchkey.so [prompt=a \\] b]');
    expect(entry).toMatchObject({ args: ['[prompt=a ] b]'] });
  });
});

describe('reachOf', () => {
  const etc = files({
    'common-auth': 'auth [success=2 default=ignore] pam_latchkey.so\nauth [success=1 default=ignore] pam_unix.so\n',
    login: '@include common-auth\naccount required pam_unix.so\n',
    i3lock: 'auth include login\n',
    sudo: 'auth substack common-auth\n',
    lightdm: 'auth required pam_unix.so\n',
    direct: 'auth sufficient /opt/latchkey/pam_latchkey.so agent_uid=0\n',
    sessiononly: 'session include common-auth\n',
    broken: '@include common-nothing\n',
    loop: '@include loop2\n',
    loop2: '@include loop\n',
  });

  it('follows @include, include and substack, and says through which files', () => {
    expect(reachOf('common-auth', etc).references[0]).toMatchObject({
      file: 'common-auth',
      via: [],
      control: '[success=2 default=ignore]',
    });
    expect(reachOf('login', etc).references[0]).toMatchObject({ file: 'common-auth', via: ['common-auth'] });
    expect(reachOf('i3lock', etc).references[0]).toMatchObject({ via: ['login', 'common-auth'] });
    expect(reachOf('sudo', etc).references).toHaveLength(1);
    expect(reachOf('direct', etc).references[0]).toMatchObject({
      path: '/opt/latchkey/pam_latchkey.so',
      options: { agent_uid: '0' },
    });
  });

  it('does not count other stack types, reports includes that do not exist, and stops on a loop', () => {
    expect(reachOf('lightdm', etc).references).toEqual([]);
    expect(reachOf('sessiononly', etc).references).toEqual([]);
    expect(reachOf('broken', etc).missingIncludes).toEqual(['common-nothing']);
    expect(reachOf('loop', etc)).toEqual({ service: 'loop', references: [], missingIncludes: [] });
  });

  it('loads a bare module name from the module directory, an absolute one from where it says', () => {
    expect(modulePath('pam_latchkey.so', '/lib/x86_64-linux-gnu/security/')).toBe(
      '/lib/x86_64-linux-gnu/security/pam_latchkey.so',
    );
    expect(modulePath('/opt/l/pam_latchkey.so', '/lib/security')).toBe('/opt/l/pam_latchkey.so');
  });
});
