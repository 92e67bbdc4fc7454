// The pruning rules for the packaged node_modules (installer/prune.mjs, docs/dependencies.md
// "Packaging"), on a small tree made here: what goes, and what must stay because code loads it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneNodeModules } from '../../installer/prune.mjs';
import { makeTempDir } from '../helpers/agent-harness.js';

function tree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text, { mode: 0o755 });
  }
}

describe('pruning node_modules for the packages', () => {
  it("drops docs, tests, TypeScript, maps, bins, native sources and other platforms; keeps code, licences and this platform's addons", async () => {
    const modules = join(await makeTempDir(), 'node_modules');
    tree(modules, {
      'plain/package.json': '{"name":"plain","main":"lib/index.js","bin":{"plain":"cli.js"}}',
      'plain/lib/index.js': 'module.exports = 1',
      'plain/lib/index.d.ts': 'export {}',
      'plain/lib/index.js.map': '{}',
      'plain/cli.js': '#!/usr/bin/env node',
      'plain/README.md': '#',
      'plain/LICENSE': 'MIT',
      'plain/license.md': 'MIT',
      'plain/test/a.js': '',
      'plain/docs/x.html': '',
      'plain/.github/workflows/ci.yml': '',
      'yaml/package.json': '{"name":"yaml","main":"dist/index.js"}',
      'yaml/dist/doc/Document.js': 'code that lives in a folder called doc',
      'native/package.json': '{"name":"native","main":"lib/index.js"}',
      'native/binding.gyp': '{}',
      'native/lib/index.js': '',
      'native/src/addon.cc': '',
      'native/deps/sqlite3.c': '',
      'native/build/Release/addon.node': 'not really ELF',
      'native/build/Release/obj.target/addon.o': '',
      'native/build/Makefile': '',
      'native/prebuilds/linux-x64/addon.glibc.node': '',
      'native/prebuilds/linux-x64/addon.musl.node': '',
      'native/prebuilds/darwin-x64+arm64/addon.node': '',
      'koffi/package.json': '{"name":"koffi","main":"index.cjs"}',
      'koffi/cnoke.cjs': '',
      'koffi/index.cjs': "require('./src/koffi/index.cjs')",
      'koffi/src/koffi/index.cjs': '',
      'koffi/src/koffi/src/abi/x64sysv_asm.S': '',
      'typescript/package.json': '{"name":"typescript"}',
      '.bin/plain': '',
    });
    pruneNodeModules(modules);
    const kept = (path: string) => existsSync(join(modules, path));
    for (const path of [
      'plain/lib/index.js',
      'plain/LICENSE',
      'plain/license.md',
      'yaml/dist/doc/Document.js',
      'native/lib/index.js',
      'native/build/Release/addon.node',
      'native/prebuilds/linux-x64/addon.glibc.node',
      'koffi/index.cjs',
      'koffi/src/koffi/index.cjs',
    ]) {
      expect(kept(path), path).toBe(true);
    }
    for (const path of [
      'plain/lib/index.d.ts',
      'plain/lib/index.js.map',
      'plain/cli.js',
      'plain/README.md',
      'plain/test',
      'plain/docs',
      'plain/.github',
      'native/src',
      'native/deps',
      'native/binding.gyp',
      'native/build/Release/obj.target',
      'native/build/Makefile',
      'native/prebuilds/linux-x64/addon.musl.node',
      'native/prebuilds/darwin-x64+arm64',
      'koffi/src/koffi/src/abi/x64sysv_asm.S',
      'typescript',
      '.bin',
    ]) {
      expect(kept(path), path).toBe(false);
    }
    expect(statSync(join(modules, 'plain/lib/index.js')).mode & 0o777).toBe(0o644);
    expect(execFileSync('find', [modules, '-type', 'f', '-perm', '/111'], { encoding: 'utf8' })).toBe('');
  });
});
