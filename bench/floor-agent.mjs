#!/usr/bin/env node
// The floor under pam_latchkey for any agent written in Node (bench/pam-vs-oath.mjs): the agent's
// own frame codec (protocol/ipc-messages.ts) on a plain net server, and per verify only what the
// agent cannot skip — one Argon2id at the given parameters and one durable append — then
// "accepted". Every status says "usable". No decision, no state, no audit: a benchmark reference,
// never a product part (it checks nothing).
//
//   node bench/floor-agent.mjs SOCKET JOURNAL RECORD_BYTES MEMORY_KIB ITERATIONS
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { FRAME_HEADER_BYTES } = await import(join(ROOT, 'dist/protocol/ipc-frame.js'));
const { decodeRequestBody, encodeReply } = await import(join(ROOT, 'dist/protocol/ipc-messages.js'));
const argon2 = createRequire(import.meta.url)('@node-rs/argon2');

const [socketPath, journalPath, recordBytes, memoryKiB, iterations] = process.argv.slice(2);
if (!iterations) {
  process.stderr.write('usage: floor-agent.mjs SOCKET JOURNAL RECORD_BYTES MEMORY_KIB ITERATIONS\n');
  process.exit(2);
}
const record = Buffer.alloc(Number(recordBytes), 1);
const kdf = {
  algorithm: 2,
  version: 1,
  memoryCost: Number(memoryKiB),
  timeCost: Number(iterations),
  parallelism: 1,
  outputLen: 32,
  salt: Buffer.alloc(16, 7),
};
const journal = openSync(journalPath, 'w', 0o600);
let end = 0;

function answer(request) {
  if (request.op === 'status')
    return {
      requestId: request.requestId,
      status: 'ok',
      offlineMode: true,
      usable: true,
      locked: false,
      remaining: 50,
      low: false,
      online: false,
      ble: false,
    };
  argon2.hashRawSync(Buffer.from(request.pin), kdf);
  writeSync(journal, record, 0, record.length, end);
  fdatasyncSync(journal);
  end += record.length;
  return {
    requestId: request.requestId,
    status: 'accepted',
    remaining: 50,
    low: false,
    message: 'Unlocked — 50 offline PINs left.',
  };
}

rmSync(socketPath, { force: true });
const server = net.createServer((socket) => {
  let buffer = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= FRAME_HEADER_BYTES) {
      const length = FRAME_HEADER_BYTES + buffer.readUInt32BE(4);
      if (buffer.length < length) return;
      socket.write(encodeReply(answer(decodeRequestBody(buffer.subarray(FRAME_HEADER_BYTES, length)))));
      buffer = buffer.subarray(length);
    }
  });
});
server.listen(socketPath);
process.on('SIGTERM', () => {
  server.close();
  closeSync(journal);
  process.exit(0);
});
