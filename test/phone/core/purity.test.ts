/**
 * phone/core and phone/vault run in a browser too (docs/phone.md): no Node built-ins, no Node
 * globals, nothing from the Node layers (agent/, cli/, phone/cli/). The rest of protocol/ they
 * use is pure by rule (STYLE.md §1).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const roots = ['phone/core', 'phone/vault'];
const files = roots.flatMap((root) => readdirSync(new URL(`../../../${root}/`, import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => `${root}/${f}`));

describe('phone core purity', () => {
  it.each(files)('%s imports nothing Node-only', (file) => {
    const source = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import[^;]*?from '([^']+)'/gms)].map((m) => m[1]!);
    for (const spec of imports) {
      expect(spec, `${file} imports ${spec}`).not.toMatch(/^node:|^(fs|path|os|crypto|net|child_process)$/);
      expect(spec, `${file} imports ${spec}`).not.toMatch(/\/(agent|cli)\//);
    }
    expect(source).not.toMatch(/\b(process|Buffer|require)\s*[.(]/);
  });
});
