/**
 * The agent on the OS-keychain backend for real: a private D-Bus session with gnome-keyring
 * (test/platform/keystore/secret-service-session.ts). A locked keychain is an error the lock
 * screen hears as "unavailable", never "no PINs".
 */
import { afterAll, describe, expect, it } from 'vitest';
import { askAgent } from '../../cli/agent-client.js';
import { utf8 } from '../../protocol/bytes.js';
import { Phone, makeTempDir, spawnAgent, writeAgentConfig, type AgentProcess } from '../helpers/agent-harness.js';
import { SecretServiceSession } from '../platform/keystore/secret-service-session.js';

let session: SecretServiceSession | undefined;
let agent: AgentProcess | undefined;
afterAll(async () => {
  await agent?.stop();
  await session?.close(); // the bus, the keyring and their temporary HOME
});

describe('agent with the OS keychain (Secret Service)', () => {
  it('seals its state with a key in the keychain, and fails closed while the keychain is locked', async () => {
    session = SecretServiceSession.start();
    await session.startKeyring({ unlock: true });
    const files = await writeAgentConfig(
      await makeTempDir(),
      { offlineMode: true, pinCount: 10 },
      { keystore: { backend: 'os' } },
    );
    const env = { DBUS_SESSION_BUS_ADDRESS: session.address };
    const ask = (request: Parameters<typeof askAgent>[1]) => askAgent(files.socket, request, 10_000);

    agent = await spawnAgent(files, { env });
    const enrolled = await ask({ op: 'enroll', user: 'daemon' });
    expect(enrolled.status).toBe('ok');
    const phone = new Phone(enrolled.secret!);
    expect(await ask({ op: 'verify', user: 'daemon', pin: utf8(phone.pin(0)), context: 'test' })).toMatchObject({
      status: 'accepted',
    });
    expect(agent.output()).toMatch(/keystore="OS keychain/);
    await agent.stop();

    session.lockLoginKeyring();
    expect(session.loginKeyringLocked()).toBe(true);
    agent = await spawnAgent(files, { env });
    expect(await ask({ op: 'verify', user: 'daemon', pin: utf8(phone.pin(1)), context: 'test' })).toMatchObject({
      status: 'unavailable',
      reason: 'keystore-unavailable',
      message: 'Offline PINs are unavailable right now — use your password.',
    });
    expect(await ask({ op: 'status', user: 'daemon' })).toMatchObject({
      status: 'unavailable',
      reason: 'keystore-unavailable',
    });
    expect(agent.output()).toMatch(/keystore-locked/);
    await agent.stop();

    await session.stopKeyring();
    await session.startKeyring({ unlock: true });
    agent = await spawnAgent(files, { env });
    expect(await ask({ op: 'verify', user: 'daemon', pin: utf8(phone.pin(1)), context: 'test' })).toMatchObject({
      status: 'accepted',
      remaining: 8,
    });
  }, 60_000);
});
