/**
 * native/windows/logon-credential.c (docs/windows.md §5) built natively with clang, ASan and UBSan:
 * the C decoder against the same vectors as the TypeScript one, and the `secret` field found in
 * reply bodies the agent's own encoder wrote.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.js';
import { FRAME_HEADER_BYTES } from '../../protocol/ipc-frame.js';
import { encodeReply } from '../../protocol/ipc-messages.js';
import { compileC, removeScratchDir } from '../native/helpers/native-tools.js';
import { ROOT } from './helpers/wine.js';

const { valid, invalid } = (
  JSON.parse(readFileSync(join(ROOT, 'test', 'vectors', 'windows-credential.json'), 'utf8')) as {
    logonCredential: {
      valid: { name: string; domain: string; user: string; passwordHex: string; hex: string }[];
      invalid: { name: string; hex: string }[];
    };
  }
).logonCredential;

let cli: string;
beforeAll(() => {
  cli = compileC(
    'logon-credential-cli',
    [join(ROOT, 'test/windows/c/logon-credential-cli.c'), join(ROOT, 'native/windows/logon-credential.c')],
    ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'],
  );
});
afterAll(() => removeScratchDir());

const run = (mode: string, hexes: string[]) =>
  execFileSync(cli, [mode], { input: `${hexes.join('\n')}\n`, encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const utf16Hex = (text: string) => toHex(Uint8Array.from(Buffer.from(text, 'utf16le')));

describe('the C decoder of the logon credential', () => {
  it('decodes every valid vector as the TypeScript side does', () => {
    expect(
      run(
        'decode',
        valid.map((c) => c.hex),
      ),
    ).toEqual(
      valid.map((c) => ({
        ok: 1,
        domainHex: utf16Hex(c.domain),
        userHex: utf16Hex(c.user),
        passwordHex: c.passwordHex,
      })),
    );
  });

  it('refuses every invalid vector and leaves nothing of it behind', () => {
    expect(
      run(
        'decode',
        invalid.map((c) => c.hex),
      ),
    ).toEqual(invalid.map(() => ({ ok: 0 })));
  });
});

describe('the secret field in a reply body the codec accepted', () => {
  it("is found wherever the agent's encoder puts it, and not invented when absent", () => {
    const secret = Uint8Array.from(Buffer.from(valid[1]!.hex, 'hex'));
    const bodies = [
      encodeReply({
        requestId: 7,
        status: 'accepted',
        message: 'Unlocked \u2014 4 offline PINs left.',
        remaining: 4,
        secret,
      }),
      encodeReply({ requestId: 8, status: 'accepted', secret }),
      encodeReply({ requestId: 9, status: 'rejected', reason: 'wrong-pin', message: 'x' }),
    ].map((frame) => toHex(frame.subarray(FRAME_HEADER_BYTES)));
    expect(run('secret', bodies)).toEqual([
      { found: 1, hex: valid[1]!.hex },
      { found: 1, hex: valid[1]!.hex },
      { found: 0 },
    ]);
  });
});
