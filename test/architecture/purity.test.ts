/**
 * Pure folders stay pure (STYLE.md §1). protocol/ and ble/protocol/ hold formats, state machines
 * and crypto: no file system, no sockets, no processes, no timers — I/O lives in the layers above.
 * phone/core, phone/vault and the browser half of protocol/ (online/, crypto/hashes.ts,
 * crypto/webcrypto.ts) run in a browser too (docs/phone.md): no Node built-ins at all, no Node
 * globals, nothing from the Node layers (agent/, cli/, phone/cli/).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url);

function sources(root: string): string[] {
  return readdirSync(new URL(`${root}/`, REPO)).flatMap((name) => {
    const file = `${root}/${name}`;
    if (statSync(new URL(file, REPO)).isDirectory()) return sources(file);
    return /\.tsx?$/.test(name) ? [file] : [];
  });
}

const read = (file: string) => readFileSync(new URL(file, REPO), 'utf8');
const allImports = (source: string) => [...source.matchAll(/^import[^;]*?from '([^']+)'/gms)].map((m) => m[1]!);
/** Runtime imports (a type-only import leaves nothing behind at run time). */
const runtimeImports = (source: string) =>
  [...source.matchAll(/^import(?!\s+type\b)[^;]*?from '([^']+)'/gms)].map((m) => m[1]!);

const pure = [...sources('protocol'), ...sources('ble/protocol')];
const browser = [
  ...sources('phone/core'),
  ...sources('phone/vault'),
  ...sources('protocol/online'),
  'protocol/crypto/hashes.ts',
  'protocol/crypto/webcrypto.ts',
];

describe('protocol/ and ble/protocol/ do no I/O', () => {
  it.each(pure)('%s', (file) => {
    const source = read(file);
    for (const spec of runtimeImports(source)) {
      expect(spec, `${file} imports ${spec}`).not.toMatch(
        /^(node:)?(fs|fs\/promises|net|child_process|timers|timers\/promises|http|https|dgram|worker_threads|os)$/,
      );
      expect(spec, `${file} imports ${spec}`).not.toMatch(/\/(agent|cli|platform|phone|control-center)\//);
    }
    expect(source, `${file} starts a timer`).not.toMatch(/\b(setTimeout|setInterval|setImmediate)\s*\(/);
  });
});

describe('what runs in a browser imports nothing Node-only', () => {
  it.each(browser)('%s', (file) => {
    const source = read(file);
    // phone/ not even for types; protocol/crypto/webcrypto.ts borrows Node's WebCrypto typings.
    for (const spec of file.startsWith('phone/') ? allImports(source) : runtimeImports(source)) {
      expect(spec, `${file} imports ${spec}`).not.toMatch(/^node:|^(fs|path|os|crypto|net|child_process)$/);
      expect(spec, `${file} imports ${spec}`).not.toMatch(/\/(agent|cli)\/|\/phone\/cli\/|\/platform\/(?!api-client)/);
    }
    expect(source).not.toMatch(/\b(process|Buffer|require)\s*[.(]/);
  });
});
