// The Control Center's config file (docs/configuration.md "Control Center"): every key, flags
// over the file, and the refusals of a file someone else could have written.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../platform/config-error.js';
import { loadCcConfig, parseListenAddress, resolveCcConfig } from '../../control-center/config.js';
import { makeTempDir } from '../helpers/agent-harness.js';

const FULL = {
  database: '/var/lib/latchkey-control-center/control-center.db',
  listen: '0.0.0.0:8443',
  tls: { cert: '/etc/latchkey/tls/cert.pem', key: '/etc/latchkey/tls/key.pem' },
  trustProxy: ['10.0.0.0/8', '::1'],
  rateLimits: { enroll: 100, redeem: 20, failures: 40, perKey: 1200 },
  firstAdminTokenFile: '/var/lib/latchkey-control-center/first-admin-token',
  logLevel: 'warn',
};

describe('Control Center config (docs/configuration.md "Control Center")', () => {
  it('with no file: nothing but the log level has a default', () => {
    expect(resolveCcConfig(undefined, null)).toEqual({
      database: undefined,
      listen: undefined,
      tls: undefined,
      trustProxy: undefined,
      rateLimits: {},
      firstAdminTokenFile: undefined,
      logLevel: 'info',
      source: null,
    });
  });

  it('reads every key, and command-line flags win over the file', () => {
    const config = resolveCcConfig(FULL, '/etc/latchkey/control-center.json', {
      listen: '127.0.0.1:9000',
      database: undefined,
    });
    expect(config).toEqual({
      database: FULL.database,
      listen: { host: '127.0.0.1', port: 9000 },
      tls: FULL.tls,
      trustProxy: FULL.trustProxy,
      rateLimits: { enrollPerMinute: 100, redeemPerMinute: 20, failuresPerMinute: 40, perKeyPerMinute: 1200 },
      firstAdminTokenFile: FULL.firstAdminTokenFile,
      logLevel: 'warn',
      source: '/etc/latchkey/control-center.json',
    });
    expect(parseListenAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListenAddress('host:70000')).toBeNull();
  });

  it('names every bad key and value at once', () => {
    const bad = {
      database: 'relative.db',
      listen: 'nowhere',
      tls: { cert: '/c' },
      rateLimits: { enroll: 0 },
      logLevel: 'loud',
      colour: 'red',
    };
    expect(() => resolveCcConfig(bad, '/etc/latchkey/control-center.json')).toThrow(ConfigError);
    try {
      resolveCcConfig(bad, '/etc/latchkey/control-center.json');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^\/etc\/latchkey\/control-center.json: /);
      for (const part of [
        /database must be an absolute path/,
        /listen must be HOST:PORT/,
        /tls.key/,
        /rateLimits.enroll must be an integer from 1 to 1000000 \(got 0\)/,
        /logLevel must be "debug"/,
        /colour is not a known key/,
      ]) {
        expect(message).toMatch(part);
      }
    }
  });

  it('loads a file; refuses one that is group-writable, a symlink, or not JSON; a named file must exist', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'control-center.json');
    await fs.writeFile(file, JSON.stringify(FULL), { mode: 0o640 });
    expect((await loadCcConfig(file)).database).toBe(FULL.database);
    await fs.chmod(file, 0o664);
    await expect(loadCcConfig(file)).rejects.toMatchObject({
      code: 'config-insecure',
      message: /must not be group- or world-writable/,
    });
    await fs.chmod(file, 0o600);
    await fs.symlink(file, path.join(dir, 'link.json'));
    await expect(loadCcConfig(path.join(dir, 'link.json'))).rejects.toMatchObject({
      code: 'config-insecure',
      message: /symbolic link/,
    });
    await fs.writeFile(file, '{ "database": ');
    await expect(loadCcConfig(file)).rejects.toMatchObject({ code: 'config-invalid', message: /is not valid JSON/ });
    await expect(loadCcConfig(path.join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'config-missing' });
  });
});
