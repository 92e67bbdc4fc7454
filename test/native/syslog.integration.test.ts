/**
 * What pam_latchkey.so writes to syslog (docs/pam.md "Debugging"): a malformed option is an
 * error on LOG_AUTHPRIV, an unreachable agent a warning, and with `debug` each step — but
 * never the PIN. pamtester runs in a private mount namespace whose /dev holds only null and a
 * /dev/log socket read by socat, so the messages are caught whatever syslog the machine has.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir, removeScratchDir } from './helpers/native-tools.js';
import { moduleLine, pamService, pins, removePamServicesAndUsers } from './helpers/pam-env.js';
import { startAgentForUsers, type Agent, type TestUser } from './helpers/pam-env.js';

const LOG_AUTHPRIV = 10 << 3;
const PRI = { err: `<${LOG_AUTHPRIV | 3}>`, warning: `<${LOG_AUTHPRIV | 4}>`, debug: `<${LOG_AUTHPRIV | 7}>` };
let agent: Agent;
let alice: TestUser;
let uri: string;

beforeAll(async () => {
  [agent, uri, alice] = await startAgentForUsers('g');
});

afterAll(async () => {
  removeScratchDir();
  await agent?.stop();
  removePamServicesAndUsers(alice);
});

function pamtesterLogged(service: string, input: string): { output: string; syslog: string } {
  const dir = mkdtempSync(join(scratchDir(), 'syslog-'));
  const script = [
    'd=$1; touch "$d/null" "$d/syslog"',
    'mount --bind /dev/null "$d/null" && mount -t tmpfs tmpfs /dev && touch /dev/null && mount --bind "$d/null" /dev/null || exit 70',
    'socat -u UNIX-RECV:/dev/log,mode=666 OPEN:"$d/syslog",append & reader=$!',
    'i=0; while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done',
    'pamtester -v "$2" "$3" authenticate; status=$?',
    'sleep 0.2; kill $reader; exit $status',
  ].join('\n');
  const run = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', dir, service, alice.name], {
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { output: run.stdout + run.stderr, syslog: readFileSync(join(dir, 'syslog'), 'utf8') };
}

describe('syslog', () => {
  it('logs a malformed option as an error on LOG_AUTHPRIV, naming it', () => {
    const { syslog } = pamtesterLogged(pamService('log-bad', [moduleLine('required', agent, 'timeout=soon')]), '');
    expect(syslog).toContain(`${PRI.err}`);
    expect(syslog).toMatch(
      /pam_latchkey\(latchkey-test-\d+-log-bad:auth\): bad module option: timeout= needs milliseconds from 1 to 30000, got "timeout=soon"/,
    );
  });

  it('logs an unknown option the same way', () => {
    const { syslog } = pamtesterLogged(pamService('log-unknown', [moduleLine('required', agent, 'nullok')]), '');
    expect(syslog).toMatch(new RegExp(`${PRI.err}.*bad module option: unknown option "nullok"`));
  });

  it('logs an unreachable agent as a warning', () => {
    const { syslog } = pamtesterLogged(
      pamService('log-down', [moduleLine('required', { socket: '/nonexistent/agent.sock' })]),
      '',
    );
    expect(syslog).toMatch(
      new RegExp(
        `${PRI.warning}.*status for ${alice.name}: agent unreachable \\(socket /nonexistent/agent.sock\\); falling through`,
      ),
    );
  });

  it('with debug, logs each step but never the PIN, right or wrong', () => {
    const service = pamService('log-debug', [moduleLine('required', agent, 'debug')]);
    const [pin] = pins(uri, 0);
    const accepted = pamtesterLogged(service, `${pin}\n`);
    expect(accepted.output).toContain('Unlocked');
    const rejected = pamtesterLogged(service, 'K7QM-2XHD\n');
    const syslog = accepted.syslog + rejected.syslog;
    expect(syslog).toContain(`${PRI.debug}`);
    expect(syslog).toMatch(/status for .*: status=0 online=0 offlineMode=1 usable=1/);
    expect(syslog).toMatch(/status for .*: status=0 .* reason=- ble=0/);
    expect(syslog).toMatch(/verify for .*: status=1/);
    expect(syslog).toMatch(/verify for .*: status=2 reason=wrong-pin/);
    for (const secret of [pin!, pin!.replace('-', ''), 'K7QM', '2XHD']) expect(syslog).not.toContain(secret);
  });
});
