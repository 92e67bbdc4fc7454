/**
 * `npm run build:windows` (docs/windows.md §1): mingw-w64 builds every Windows part; the provider
 * DLL exports DllGetClassObject and DllCanUnloadNow and nothing else, every part imports only DLLs
 * Windows itself ships, all are built with ASLR and NX, and the provider carries the PAM module's
 * own frame codec (native/pam/ipc-codec.c).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASONS } from '../../protocol/ipc-messages.js';
import { buildWindowsParts } from './helpers/wine.js';

const PARTS = ['latchkey-cp.dll', 'latchkey-service.exe', 'latchkey-msi.dll', 'cp-harness.exe'];
const WINDOWS_DLLS = new Set([
  'advapi32.dll',
  'bcrypt.dll',
  'kernel32.dll',
  'msvcrt.dll',
  'ole32.dll',
  'secur32.dll',
  'wtsapi32.dll',
  'shell32.dll',
  'msi.dll',
]);

let out: string;
beforeAll(() => {
  out = mkdtempSync('/tmp/latchkey-windows-build-');
  buildWindowsParts(out);
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const headers = (part: string) =>
  execFileSync('x86_64-w64-mingw32-objdump', ['-p', join(out, part)], { encoding: 'utf8' });

describe('the Windows parts', () => {
  it('the provider exports exactly DllGetClassObject and DllCanUnloadNow', () => {
    const table = /\[Ordinal\/Name Pointer\] Table\n([\s\S]*?)\n\n/.exec(headers('latchkey-cp.dll'))![1]!;
    expect(
      table
        .split('\n')
        .map((line) => line.replace(/^\s*\[\s*\d+\]\s*/, '').trim())
        .sort(),
    ).toEqual(['DllCanUnloadNow', 'DllGetClassObject']);
  });

  it('the MSI action exports only WriteEnrollFile', () => {
    const table = /\[Ordinal\/Name Pointer\] Table\n([\s\S]*?)\n\n/.exec(headers('latchkey-msi.dll'))![1]!;
    expect(table.trim().replace(/^\[\s*\d+\]\s*/, '')).toBe('WriteEnrollFile');
  });

  it.each(PARTS)('%s imports only DLLs Windows ships, and is built with ASLR and NX', (part) => {
    const text = headers(part);
    const imports = [...text.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]!.toLowerCase());
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((dll) => !WINDOWS_DLLS.has(dll))).toEqual([]);
    for (const flag of ['DYNAMIC_BASE', 'NX_COMPAT', 'HIGH_ENTROPY_VA']) expect(text).toContain(flag);
  });

  it('the provider carries the shared frame codec: every reason the agent can send', () => {
    const dll = readFileSync(join(out, 'latchkey-cp.dll')).toString('latin1');
    expect(REASONS.filter((reason) => !dll.includes(`${reason}\0`))).toEqual([]);
  });
});
