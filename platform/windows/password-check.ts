/**
 * The password-check seam on Windows: LogonUserW with LOGON32_LOGON_NETWORK (no profile, no
 * interactive-logon right needed) checks a local or domain account's password; the token is
 * closed at once. The password is handed over as UTF-16 in memory wiped after the call.
 *
 * Wine 8's LogonUserW is a stub that accepts every user and every password (docs/windows.md §10):
 * tests under wine cannot prove that a wrong password is refused.
 */
import type { PasswordCheckOptions, PasswordCheckResult } from '../password-check.js';
import { parseAccountName } from './security-descriptor.js';
import { ERROR_LOGON_FAILURE, describeWin32Error, useWin32 } from './win32.js';

const LOGON32_LOGON_NETWORK = 3;
const LOGON32_PROVIDER_DEFAULT = 0;
/** Windows refusals that mean "not this password" or "not allowed to sign in", not an outage. */
const REJECTIONS = new Set([ERROR_LOGON_FAILURE, 1327, 1328, 1329, 1330, 1331, 1385, 1909, 1907]);

export async function checkPassword(options: PasswordCheckOptions): Promise<PasswordCheckResult> {
  let account: { domain: string | null; name: string };
  try {
    account = parseAccountName(options.user);
  } catch (error) {
    return { ok: false, code: 'password-rejected', message: (error as Error).message };
  }
  let win: ReturnType<typeof useWin32>;
  try {
    win = useWin32('pam-unavailable');
  } catch (error) {
    return { ok: false, code: 'password-check-unavailable', message: (error as Error).message };
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(options.password);
  const wide = Buffer.alloc((text.length + 1) * 2);
  wide.write(text, 'utf16le');
  const memory = win.koffi.alloc('uint8_t', wide.length);
  win.koffi.encode(memory, win.koffi.array('uint8_t', wide.length), [...wide]);
  wide.fill(0);
  const token: [number] = [0];
  try {
    const ok = win.LogonUserW(
      account.name,
      account.domain ?? '.',
      memory,
      LOGON32_LOGON_NETWORK,
      LOGON32_PROVIDER_DEFAULT,
      token,
    );
    if (ok !== 0) {
      win.CloseHandle(token[0]);
      return { ok: true };
    }
    const error = win.GetLastError();
    if (REJECTIONS.has(error))
      return {
        ok: false,
        code: 'password-rejected',
        message: `Windows did not accept that password for ${options.user}`,
      };
    return {
      ok: false,
      code: 'password-check-unavailable',
      message: `Windows could not check the password (${describeWin32Error(error)})`,
    };
  } finally {
    win.koffi.encode(memory, win.koffi.array('uint8_t', wide.length), new Array(wide.length).fill(0));
    win.koffi.free(memory);
  }
}
