#!/usr/bin/env node
// Writes seed corpora for the libFuzzer harnesses in native/pam/fuzz/: every reply frame of
// test/vectors/ipc-frames.json (valid and invalid; for the transport behind a byte that lets
// allocation succeed), and a few good and bad option lines.
//   node tools/fuzz-seeds.mjs OUT_DIR   → OUT_DIR/{reply,options,transport,encoder}/seed-N
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const out = resolve(process.argv[2] ?? 'build/fuzz/seeds');
const vectors = JSON.parse(readFileSync(new URL('../test/vectors/ipc-frames.json', import.meta.url), 'utf8'));
const seeds = {
  reply: [...vectors.validReplies, ...vectors.invalidReplies].map((c) => Buffer.from(c.hex, 'hex')),
  options: [
    'socket=/run/latchkey/agent.sock\0timeout=2000\0prompt=Offline PIN: \0debug',
    'timeout=0',
    'socket=relative',
    'nullok',
    'debug\0debug',
  ].map((s) => Buffer.from(s)),
  transport: [...vectors.validReplies, ...vectors.invalidReplies].map((c) =>
    Buffer.concat([Buffer.from([1]), Buffer.from(c.hex, 'hex')]),
  ),
  encoder: [Buffer.from('\x05\x08\x07aliceK7QM2XHDpam:login'), Buffer.from('\x01\x01\x01a1')],
};
for (const [harness, list] of Object.entries(seeds)) {
  const dir = join(out, harness);
  mkdirSync(dir, { recursive: true });
  for (const [i, bytes] of list.entries()) writeFileSync(join(dir, `seed-${i}`), bytes);
}
process.stdout.write(`${out}\n`);
