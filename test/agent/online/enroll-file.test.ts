// The enrollment file an installer drops (docs/deployment.md "The enrollment file"): its
// schema, its ownership and mode rules, and that no refusal ever shows the token.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAgentConfig } from '../../../agent/config.js';
import { createLogger } from '../../../platform/log.js';
import { parseEnrollFile, readEnrollFile, removeEnrollFile } from '../../../agent/online/enroll-file.js';
import { makeTempDir } from '../../helpers/agent-harness.js';

const TOKEN = `lk_install_${'A'.repeat(43)}`;
const GOOD = { url: 'https://cc.example.com', installToken: TOKEN, name: 'desk-42' };

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', write: (line) => lines.push(line) }) };
}

describe('enroll.json (docs/deployment.md)', () => {
  it('takes url, installToken and an optional name', () => {
    expect(parseEnrollFile(GOOD, 'f')).toEqual(GOOD);
    expect(parseEnrollFile({ url: GOOD.url, installToken: TOKEN }, 'f')).toEqual({
      url: GOOD.url,
      installToken: TOKEN,
    });
  });

  it('names what is wrong without ever showing a token', () => {
    const leaky = `lk_install_${'B'.repeat(42)}`;
    const refuse = (json: unknown) => {
      try {
        parseEnrollFile(json, '/etc/latchkey/enroll.json');
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse({ url: 'ftp://x', installToken: leaky })).toMatch(
      /url must be an http\(s\) URL[\s\S]*installToken must be an install token/,
    );
    expect(refuse({ url: 'ftp://x', installToken: leaky })).not.toContain('BBBB');
    expect(refuse({ ...GOOD, name: '' })).toMatch(/name must be 1–128 characters/);
    expect(refuse({ ...GOOD, extra: 1 })).toMatch(/extra is not a known key/);
    expect(refuse([GOOD])).toMatch(/must be a JSON object/);
  });

  it('is next to the config file by default, and can be named', () => {
    expect(resolveAgentConfig(undefined, null, {}, true).enrollFile).toBe('/etc/latchkey/enroll.json');
    expect(resolveAgentConfig({}, '/srv/agent/agent.json', {}, true).enrollFile).toBe('/srv/agent/enroll.json');
    expect(resolveAgentConfig({ enrollFile: '/run/x/enroll.json' }, '/srv/agent/agent.json', {}, true).enrollFile).toBe(
      '/run/x/enroll.json',
    );
  });

  it('is read only when nobody else can read or write it, and is removed once used', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'enroll.json');
    const { lines, log } = capture();
    expect(await readEnrollFile(file, log)).toBeNull();
    expect(lines).toEqual([]);
    await fs.writeFile(file, JSON.stringify(GOOD), { mode: 0o644 });
    await fs.chmod(file, 0o644);
    expect(await readEnrollFile(file, log)).toBeNull();
    expect(lines.join('')).toMatch(/enroll-file.refused .*mode 0644.*chmod 600/);
    await fs.chmod(file, 0o600);
    expect(await readEnrollFile(file, log)).toEqual(GOOD);
    await fs.writeFile(file, '{"url": "https://cc.example.com", "installToken": "lk_install_short"}');
    expect(await readEnrollFile(file, log)).toBeNull();
    await fs.writeFile(file, 'x'.repeat(5000));
    expect(await readEnrollFile(file, log)).toBeNull();
    expect(lines.join('')).toMatch(/over the limit of 4096/);
    await removeEnrollFile(file, log, 'install token used');
    await expect(fs.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    await removeEnrollFile(file, log, 'again'); // already gone: nothing to say
    expect(lines.join('')).not.toMatch(/lk_install_[A-Za-z0-9_-]{10}/);
  });
});
