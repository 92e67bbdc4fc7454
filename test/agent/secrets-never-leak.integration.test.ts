/**
 * No seed or PIN reaches the agent's log (at debug level), its audit log, its state or its
 * keystore files — only the enrollment output meant for the phone (STYLE.md §6).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeBase32 } from '../../protocol/base32.js';
import { deriveOfflinePin } from '../../protocol/offline-pin.js';
import { makeTempDir, spawnAgent, writeAgentConfig } from '../helpers/agent-harness.js';
import { runCli } from '../helpers/run-cli.js';

async function everyFile(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await everyFile(full)));
    else if (entry.isFile()) out.push(await fs.readFile(full));
  }
  return out;
}

describe('secrets stay secret', () => {
  it('keeps seeds and PINs out of logs, audit, state and keystore files', async () => {
    const files = await writeAgentConfig(await makeTempDir(), { offlineMode: true, pinCount: 10 });
    const agent = await spawnAgent(files);
    const enrolled = JSON.parse(
      (await runCli(['enroll', '--user', 'daemon', '--json', '--socket', files.socket])).stdout,
    );
    const pins = (await runCli(['pins', '--uri', enrolled.uri])).stdout.trim().split('\n');
    for (const pin of [pins[0], pins[0], 'WRNG-0001', pins[3]])
      await runCli(['verify', '--user', 'daemon', '--socket', files.socket], { input: pin });
    await runCli(['status', '--user', 'daemon', '--socket', files.socket]);
    await agent.stop();

    const seed = Buffer.from((await import('../../protocol/enrollment-uri.js')).parseEnrollmentUri(enrolled.uri).seed);
    const needles: Buffer[] = [
      seed,
      Buffer.from(seed.toString('hex')),
      Buffer.from(seed.toString('base64')),
      Buffer.from(encodeBase32(seed)),
      Buffer.from(enrolled.uri),
      Buffer.from('WRNG-0001'),
      Buffer.from('WRNG0001'),
    ];
    for (let c = 0; c < 10; c++) {
      const pin = Buffer.from(deriveOfflinePin(seed, c, { charset: 'alphanumeric', length: 8 }));
      needles.push(pin, Buffer.from(`${pin.subarray(0, 4)}-${pin.subarray(4)}`));
    }
    const haystacks = [Buffer.from(agent.output()), ...(await everyFile(files.dir))];
    expect(agent.output()).toMatch(/verify user=daemon result=accepted/); // the log did record the events
    for (const haystack of haystacks) {
      for (const needle of needles)
        expect(haystack.includes(needle), `found a secret (${needle.length} bytes)`).toBe(false);
    }
  });
});
