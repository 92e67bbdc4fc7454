import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../platform/config-error.js';
import { resolveAgentConfig } from '../../agent/config.js';
import { DEFAULT_POLICY } from '../../protocol/policy-settings.js';

/** The defaults docs/configuration.md states, restated once outside the code that defines them. */
const DOCUMENTED = JSON.parse(
  readFileSync(new URL('../vectors/agent-config-defaults.json', import.meta.url), 'utf8'),
) as { policy: object; asRoot: object; ble: object };

describe('config defaults and overrides (docs/configuration.md)', () => {
  it("embedded defaults: offline mode off, the anchors' pool shape, file keystore as root", () => {
    const config = resolveAgentConfig(undefined, null, {}, true);
    expect(config.policy).toEqual(DOCUMENTED.policy);
    expect(config).toMatchObject({ ...DOCUMENTED.asRoot, source: null });
    expect(resolveAgentConfig(undefined, null, {}, false).keystore.backend).toBe('os');
  });

  it('command-line overrides win over the file, and the audit log follows the state directory', () => {
    const config = resolveAgentConfig(
      { stateDir: '/srv/a', socket: '/srv/a.sock', policy: { offlineMode: true } },
      '/etc/x.json',
      { stateDir: '/srv/b' },
      true,
    );
    expect(config).toMatchObject({
      stateDir: '/srv/b',
      socket: '/srv/a.sock',
      auditLog: '/srv/b/audit.jsonl',
      policy: { ...DEFAULT_POLICY, offlineMode: true },
    });
  });

  it('reports every problem at once, naming keys and ranges', () => {
    try {
      resolveAgentConfig(
        { policy: { pinCount: 101, lowPinWarnPercent: -1, colour: 'red' }, extra: 1 },
        '/etc/latchkey/agent.json',
        {},
        true,
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('config-invalid');
      const message = (error as Error).message;
      expect(message).toMatch(/^\/etc\/latchkey\/agent.json: /);
      expect(message).toMatch(/policy.pinCount must be an integer from 10 to 100 \(got 101\)/);
      expect(message).toMatch(/policy.lowPinWarnPercent must be an integer from 0 to 100 \(got -1\)/);
      expect(message).toMatch(/policy.colour is not a known key/);
      expect(message).toMatch(/extra is not a known key/);
    }
  });

  it('refuses a socket path too long for a Unix socket', () => {
    expect(() => resolveAgentConfig({ socket: `/${'a'.repeat(120)}` }, 'f', {}, true)).toThrow(
      /^f: socket must be at most 100 bytes/,
    );
    // A command-line override is named by its flag (issue 10 item 12: once "-.stateDir must be …").
    expect(() => resolveAgentConfig({}, 'f', { socket: 'relative.sock' }, true)).toThrow(
      /^--socket must be an absolute path \(got "relative.sock"\)$/,
    );
    expect(() => resolveAgentConfig({}, 'f', { stateDir: 'rel' }, true)).toThrow(
      /^--state-dir must be an absolute path \(got "rel"\)$/,
    );
  });
});

describe('the ble section (docs/configuration.md "ble")', () => {
  it('is off by default, with the documented budget, RSSI floor and relay bound', () => {
    expect(resolveAgentConfig(undefined, null, {}, true).ble).toEqual(DOCUMENTED.ble);
  });

  it('takes every adapter kind, and null to turn the RSSI check off', () => {
    for (const transport of [
      'hci:1',
      'hci-user:0',
      'uart:/dev/ttyACM0',
      'uart:/tmp/vc/workstation@115200',
      'usb:0a12:0001',
      'usb:0a12:0001:1:4',
    ]) {
      expect(resolveAgentConfig({ ble: { enabled: true, transport } }, 'f', {}, true).ble.transport).toBe(transport);
    }
    expect(resolveAgentConfig({ ble: { minRssi: null } }, 'f', {}, true).ble.minRssi).toBeNull();
  });

  it('refuses bad values, naming the key and the allowed values', () => {
    const refuse = (ble: unknown, pattern: RegExp) =>
      expect(() => resolveAgentConfig({ ble }, '/etc/latchkey/agent.json', {}, true)).toThrow(pattern);
    refuse(
      { transport: 'bluetooth' },
      /ble.transport must be hci:N, hci-user:N, uart:\/ABSOLUTE\/PATH\[@BAUD\], uart:COMn\[@BAUD\] or usb:VID:PID/,
    );
    refuse({ transport: 'uart:ttyUSB0' }, /ble.transport/);
    refuse({ budgetMs: 100 }, /ble.budgetMs must be an integer from 500 to 60000 \(got 100\)/);
    refuse({ proofDeadlineMs: 0 }, /ble.proofDeadlineMs must be an integer from 10 to 5000/);
    refuse({ minRssi: -200 }, /ble.minRssi must be an integer from -127 to 20/);
    refuse({ enabled: 'yes' }, /ble.enabled must be true or false/);
    refuse({ radio: 'on' }, /ble.radio is not a known key/);
  });
});
