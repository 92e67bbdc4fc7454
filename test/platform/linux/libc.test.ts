import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { distModule } from './helpers.js';

describe('libc binding', () => {
  it('loads koffi only when a function first needs it, not on import', () => {
    const modules = ['peer-credentials.js', 'users.js', 'file-lock.js', 'boot-clock.js', 'password-check.js'].map(
      (name) => distModule(name).url,
    );
    const script = `import { readFileSync } from 'node:fs';
const loaded = () => readFileSync('/proc/self/maps', 'utf8').includes('koffi');
for (const url of ${JSON.stringify(modules)}) await import(url);
const before = loaded();
(await import(${JSON.stringify(modules[1])})).lookupUserByUid(0);
console.log(JSON.stringify({ before, after: loaded() }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({ before: false, after: true });
  });
});
