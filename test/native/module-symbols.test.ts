/**
 * What the built pam_latchkey.so exposes to the process that loads it (docs/pam.md "Build"):
 * only the PAM entry points, no Node addon entry, only libpam and libc as dependencies.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pamModule } from './helpers/native-tools.js';

describe('pam_latchkey.so', () => {
  const module = pamModule();

  it('exports only pam_sm_* symbols: pam_sm_authenticate and pam_sm_setcred', () => {
    const defined = execFileSync('nm', ['-D', '--defined-only', module], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).at(-1));
    expect(defined.sort()).toEqual(['pam_sm_authenticate', 'pam_sm_setcred']);
    expect(defined.every((name) => name?.startsWith('pam_sm_'))).toBe(true);
  });

  it('is a plain shared object for libpam: named pam_latchkey.so, linked to libpam and libc only, no Node addon entry', () => {
    expect(module.endsWith('/pam_latchkey.so')).toBe(true);
    const dynamic = execFileSync('readelf', ['-d', '-W', module], { encoding: 'utf8' });
    const needed = [...dynamic.matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]).sort();
    expect(needed).toEqual(['libc.so.6', 'libpam.so.0']);
    expect(dynamic).toMatch(/BIND_NOW/);
    const symbols = execFileSync('readelf', ['--dyn-syms', '-W', module], { encoding: 'utf8' });
    expect(symbols).not.toMatch(/napi_|node_register_module/);
  });
});
