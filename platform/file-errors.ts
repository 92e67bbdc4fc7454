/**
 * One sentence for a failed file-system or socket call, naming the path (or address) and what is
 * wrong with it, instead of Node's "ENOTDIR: not a directory, mkdir '…'". Pure: it reads only the
 * error's `code`, `path`, `syscall`, `address` and `port`.
 */
interface SystemCallError {
  readonly code?: string;
  readonly path?: string;
  readonly syscall?: string;
  readonly address?: string;
  readonly port?: number;
  readonly message?: string;
}

/** Whether `error` came from a system call (it has an errno code such as ENOENT). */
export function isSystemCallError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as SystemCallError).code === 'string' &&
    /^E[A-Z0-9]+$/.test((error as SystemCallError).code!)
  );
}

/** "…/afile/state: …/afile is a file, not a directory"-style text for a failed call on a path. */
export function describeFileError(error: unknown, fallbackPath?: string): string {
  const { code, syscall, message } = error as SystemCallError;
  const target = (error as SystemCallError).path ?? fallbackPath ?? 'the file';
  switch (code) {
    case 'ENOENT':
      return syscall === 'mkdir' ? `the file system does not allow creating ${target}` : `${target} does not exist`;
    case 'ENOTDIR':
      return `a part of ${target} is a file, not a directory`;
    case 'EEXIST':
      return syscall === 'mkdir' ? `${target} exists and is not a directory` : `${target} already exists`;
    case 'EISDIR':
      return `${target} is a directory, not a file`;
    case 'EACCES':
    case 'EPERM':
      return syscall === 'mkdir'
        ? `no permission to create ${target} (run as root, or choose a path this user may write)`
        : `no permission to ${syscall === 'open' ? 'open' : 'use'} ${target} (run as root, or as the user it belongs to)`;
    case 'EROFS':
      return `${target} is on a read-only file system`;
    case 'ENOSPC':
      return `no space left on the device that holds ${target}`;
    case 'ELOOP':
      return `${target} is a symbolic link, which is refused here`;
    case 'ENAMETOOLONG':
      return `${target} is too long a path`;
    default:
      return `${target}: ${code ?? 'error'}${syscall ? ` in ${syscall}` : ''}${code ? '' : ` (${oneLine(message ?? '')})`}`;
  }
}

/** Why a server could not listen on HOST:PORT, and what to do. */
export function describeListenError(error: unknown, host: string, port: number): string {
  const { code, message } = error as SystemCallError;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `another process already listens on ${where}: stop it, or choose another port`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this computer: listen on one of its addresses, or on 0.0.0.0`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to listen on ${where} (ports below 1024 need root): choose a port from 1024 up`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${host} is not a host name this computer can resolve: give an address such as 127.0.0.1`;
    default:
      return `cannot listen on ${where}: ${oneLine(message ?? String(code))}`;
  }
}

/** Collapses line breaks and runs of spaces: an error is one line (docs/cli.md). */
export function oneLine(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}
