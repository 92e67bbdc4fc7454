/**
 * Module options (native/pam/options.c, docs/pam.md "Options"): defaults, each option, and
 * every way a stack line can be wrong. A wrong line makes the module step aside
 * (PAM_IGNORE; proven end to end in pam-stack.integration.test.ts), so here the parser must
 * refuse it rather than guess.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecCli, runJson, removeScratchDir } from './helpers/native-tools.js';

type Parsed =
  | { ok: true; socket: string; timeoutMs: number; prompt: string; debug: boolean }
  | { ok: false; error: string };
let cli: string;
beforeAll(() => {
  cli = codecCli();
});
const parse = (...args: string[]) => runJson<Parsed>(cli, ['options', ...args]);

afterAll(() => removeScratchDir());

describe('options', () => {
  it('defaults: the agent socket of docs/ipc.md, 2,000 ms, "Offline PIN: ", no debug', () => {
    expect(parse()).toEqual({
      ok: true,
      socket: '/run/latchkey/agent.sock',
      agentUid: 0,
      push: 'ask',
      onlineWaitSet: false,
      timeoutMs: 2000,
      onlineWaitMs: 20000,
      bleWaitMs: 5000,
      prompt: 'Offline PIN: ',
      debug: false,
    });
  });

  it('reads every option', () => {
    expect(
      parse(
        'socket=/tmp/lk/agent.sock',
        'agent_uid=991',
        'push=auto',
        'timeout=150',
        'online_wait=0',
        'ble_wait=2500',
        'prompt=PIN from your phone: ',
        'debug',
      ),
    ).toEqual({
      ok: true,
      socket: '/tmp/lk/agent.sock',
      agentUid: 991,
      push: 'auto',
      onlineWaitSet: true,
      timeoutMs: 150,
      onlineWaitMs: 0,
      bleWaitMs: 2500,
      prompt: 'PIN from your phone: ',
      debug: true,
    });
  });

  it('accepts the limits: timeout 1 and 30000, a 100-byte socket path, a 128-byte prompt', () => {
    expect(parse('timeout=1')).toMatchObject({ ok: true, timeoutMs: 1 });
    expect(parse('timeout=30000')).toMatchObject({ ok: true, timeoutMs: 30000 });
    expect(parse('ble_wait=0')).toMatchObject({ ok: true, bleWaitMs: 0 });
    expect(parse('agent_uid=0')).toMatchObject({ ok: true, agentUid: 0 });
    expect(parse('agent_uid=4294967294')).toMatchObject({ ok: true, agentUid: 4294967294 });
    expect(parse('ble_wait=60000')).toMatchObject({ ok: true, bleWaitMs: 60000 });
    expect(parse(`socket=/${'s'.repeat(99)}`)).toMatchObject({ ok: true });
    expect(parse(`prompt=${'p'.repeat(127)}:`)).toMatchObject({ ok: true });
  });

  it.each([
    ['an unknown option', ['nullok'], /unknown option "nullok"/],
    ['a misspelt option', ['timeout:100'], /unknown option/],
    ['an option with different case', ['Debug'], /unknown option "Debug"/],
    ['a flag with a value', ['debug=1'], /unknown option/],
    ['an empty argument', [''], /unknown option ""/],
    ['timeout 0', ['timeout=0'], /timeout= needs milliseconds/],
    ['agent_uid as a name', ['agent_uid=root'], /agent_uid= needs a numeric uid/],
    ['push with another value', ['push=always'], /push= needs ask or auto, got "push=always"/],
    ['push in upper case', ['push=ASK'], /push= needs ask or auto/],
    ['a repeated push', ['push=ask', 'push=auto'], /repeated option "push=auto"/],
    ['agent_uid of (uid_t)-1', ['agent_uid=4294967295'], /agent_uid= needs a numeric uid/],
    ['agent_uid negative', ['agent_uid=-1'], /agent_uid= needs a numeric uid/],
    ['an empty agent_uid', ['agent_uid='], /agent_uid=/],
    ['a repeated agent_uid', ['agent_uid=0', 'agent_uid=0'], /repeated option "agent_uid=0"/],
    [
      'online_wait over two minutes',
      ['online_wait=120001'],
      /online_wait= needs milliseconds from 0 \(off\) to 120000/,
    ],
    ['online_wait with a unit', ['online_wait=20s'], /online_wait= needs milliseconds/],
    ['ble_wait over a minute', ['ble_wait=60001'], /ble_wait= needs milliseconds from 0 \(off\) to 60000/],
    ['ble_wait negative', ['ble_wait=-1'], /ble_wait= needs milliseconds/],
    ['an empty ble_wait', ['ble_wait='], /ble_wait=/],
    ['a repeated ble_wait', ['ble_wait=100', 'ble_wait=200'], /repeated option "ble_wait=200"/],
    ['timeout over 30 s', ['timeout=30001'], /timeout=/],
    ['a huge timeout (no overflow)', ['timeout=99999999999999999999'], /timeout=/],
    ['a negative timeout', ['timeout=-5'], /timeout=/],
    ['a timeout with a unit', ['timeout=2s'], /timeout=/],
    ['a timeout with a space', ['timeout= 20'], /timeout=/],
    ['an empty timeout', ['timeout='], /timeout=/],
    ['a relative socket path', ['socket=run/agent.sock'], /socket= needs an absolute path/],
    ['an empty socket path', ['socket='], /socket=/],
    ['a socket path of 101 bytes', [`socket=/${'s'.repeat(100)}`], /socket=/],
    ['a socket path ending in /', ['socket=/run/latchkey/'], /socket=/],
    ['an empty prompt', ['prompt='], /prompt= needs 1-128 bytes/],
    ['a prompt of 129 bytes', [`prompt=${'p'.repeat(129)}`], /prompt=/],
    ['a prompt with an escape sequence', ['prompt=\x1b[31mPIN'], /prompt=/],
    ['a repeated option', ['timeout=100', 'timeout=200'], /repeated option "timeout=200"/],
    ['a repeated flag', ['debug', 'debug'], /repeated option "debug"/],
  ])('refuses %s', (_name, args, message) => {
    const parsed = parse(...(args as string[]));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message as RegExp);
  });

  it('quotes a long or unprintable argument short and safely for the log', () => {
    const parsed = parse(`bogus=${'x'.repeat(200)}\u0007`);
    expect(parsed).toEqual({ ok: false, error: `unknown option "bogus=${'x'.repeat(34)}..."` });
    expect(parse('what\u0007ever')).toEqual({ ok: false, error: 'unknown option "what?ever"' });
  });
});
