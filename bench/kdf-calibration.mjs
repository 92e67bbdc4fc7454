#!/usr/bin/env node
// KDF calibration (docs/offline-pins.md "Verifiers at rest"): one evaluation of each candidate
// on this machine, the time for a wrong PIN against a full default pool (25 verifiers, one per
// core), and the offline-guessing estimate for the default 8-symbol alphanumeric PIN.
//
//   npm run build && node bench/kdf-calibration.mjs
import { scrypt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './bench-support.mjs';

const { computeVerifier, DEFAULT_KDF, KDF_FLOOR } = await import(join(ROOT, 'dist/agent/offline-pin/kdf.js'));
const pin = new TextEncoder().encode('K7QM2XHD');
const salt = new Uint8Array(16).fill(7);

async function perCall(run, runs) {
  await run();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await run();
  return (performance.now() - started) / runs;
}

const candidates = [
  ['Argon2id 64 MiB t=1 (default)', DEFAULT_KDF],
  ['Argon2id 64 MiB t=2', { ...DEFAULT_KDF, iterations: 2 }],
  ['Argon2id 19 MiB t=2 (OWASP floor)', { ...DEFAULT_KDF, ...KDF_FLOOR }],
  ['Argon2id 8 KiB t=1 (tests and benchmarks only)', { ...DEFAULT_KDF, memoryKiB: 8, iterations: 1 }],
];
process.stdout.write(`KDF calibration — node ${process.version}, ${availableParallelism()} cores\n\n`);
for (const [label, params] of candidates) {
  const ms = await perCall(() => computeVerifier(pin, salt, params), params.memoryKiB > 1024 ? 10 : 500);
  process.stdout.write(`${label.padEnd(48)} ${ms.toFixed(2).padStart(8)} ms per evaluation\n`);
}
const scryptMs = await perCall(
  () => promisify(scrypt)(pin, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }),
  5,
);
process.stdout.write(
  `${'scrypt N=2^15 r=8 (32 MiB, node:crypto)'.padEnd(48)} ${scryptMs.toFixed(2).padStart(8)} ms per evaluation\n`,
);

const single = await perCall(() => computeVerifier(pin, salt, DEFAULT_KDF), 10);
const started = performance.now();
await computeVerifier(pin, salt, DEFAULT_KDF); // the first round: `next` alone
await Promise.all(Array.from({ length: 24 }, () => computeVerifier(pin, salt, DEFAULT_KDF))); // the rest, one per core
const wrongPin = performance.now() - started;
const coreYears = (2 ** 39 * single) / 1000 / (365.25 * 24 * 3600);
process.stdout.write(`\nwrong PIN against 25 default verifiers: ${wrongPin.toFixed(0)} ms (target ≤ 1000)\n`);
process.stdout.write(
  `offline guessing, one 8-symbol PIN (2^39 expected guesses × ${single.toFixed(1)} ms): ${Math.round(coreYears)} core-years (target ≥ 100)\n`,
);
