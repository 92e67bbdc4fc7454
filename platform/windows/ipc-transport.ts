/**
 * The local IPC seam on Windows (platform/ipc-transport.ts, docs/windows.md §3): the agent owns
 * `\\.\pipe\latchkey-agent` through koffi, because Node's own pipe server cannot say who the
 * client is. Every instance is created with the descriptor below and PIPE_REJECT_REMOTE_CLIENTS,
 * the first with FILE_FLAG_FIRST_PIPE_INSTANCE (another holder of the name: the agent refuses to
 * start). I/O is overlapped (overlapped.ts): the event loop never blocks. A connection is handed
 * to the server once its first bytes arrived, with the caller's identity read from its token —
 * impersonation needs a message read from the pipe. The frames are docs/ipc.md's, read by the
 * same FrameReader as the Unix socket's. Clients (the CLI) connect with Node's own pipe client.
 */
import { Duplex } from 'node:stream';
import { InsecurePathError } from '../path-errors.js';
import type { Caller, Listener, LocalServer, LocalServerEvents, LocalTransport } from '../ipc-transport.js';
import { SystemError } from '../system-error.js';
import { EventWaiter, OverlappedSlot, Win32IoError } from './overlapped.js';
import { callerFromToken } from './tokens.js';
import {
  ERROR_ACCESS_DENIED,
  ERROR_BROKEN_PIPE,
  ERROR_FILE_NOT_FOUND,
  ERROR_PIPE_CONNECTED,
  INVALID_HANDLE_VALUE,
  SDDL_REVISION_1,
  check,
  describeWin32Error,
  useWin32,
  type Pointer,
  type Win32,
} from './win32.js';

export const DEFAULT_PIPE = '\\\\.\\pipe\\latchkey-agent';
/** SYSTEM and Administrators: everything; interactive users: connect, read and write (docs/windows.md §3). */
export const PIPE_SECURITY_DESCRIPTOR = 'D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;IU)';

const PIPE_ACCESS_DUPLEX = 0x3;
const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x0008_0000;
const FILE_FLAG_OVERLAPPED = 0x4000_0000;
const PIPE_TYPE_BYTE = 0x0;
const PIPE_READMODE_BYTE = 0x0;
const PIPE_WAIT = 0x0;
const PIPE_REJECT_REMOTE_CLIENTS = 0x8;
const PIPE_UNLIMITED_INSTANCES = 255;
const BUFFER_BYTES = 64 * 1024;
/** At most this many clients at once (each holds a wait slot while idle, overlapped.ts); more wait for an instance. */
const MAX_CONNECTIONS = 48;
/** A client that connects and says nothing is dropped after this: it has no identity yet, so no limits apply to it. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;
/** After a failed accept, the next try waits this long (no busy loop on a lasting fault). */
const RETRY_AFTER_FAILURE_MS = 1_000;

const CODE = 'peer-credentials-unavailable';
const callers = new WeakMap<Duplex, Caller>();
const unidentified = new WeakMap<Duplex, Error>();

/** One end of a connected pipe instance as a Duplex; closing it closes the handle (never DisconnectNamedPipe, which drops unread replies). */
class PipeStream extends Duplex {
  readonly #win: Win32;
  readonly #pipe: number;
  readonly #waiter: EventWaiter;
  readonly #read: OverlappedSlot;
  readonly #write: OverlappedSlot;
  readonly #readBuffer: Pointer;
  readonly #writeBuffer: Pointer;
  #reading = false;
  #closed = false;
  #onClosed: () => void;

  constructor(win: Win32, pipe: number, waiter: EventWaiter, onClosed: () => void) {
    super({ allowHalfOpen: false });
    this.#win = win;
    this.#pipe = pipe;
    this.#waiter = waiter;
    this.#read = new OverlappedSlot(win);
    this.#write = new OverlappedSlot(win);
    this.#readBuffer = win.koffi.alloc('uint8_t', BUFFER_BYTES);
    this.#writeBuffer = win.koffi.alloc('uint8_t', BUFFER_BYTES);
    this.#onClosed = onClosed;
  }

  /** Reads once; resolves with the bytes, or null at the end of the stream. */
  async readOnce(): Promise<Buffer | null> {
    try {
      const bytes = await this.#read.run(this.#pipe, 'ReadFile', this.#waiter, (ov) =>
        this.#win.ReadFile(this.#pipe, this.#readBuffer, BUFFER_BYTES, null, ov),
      );
      if (bytes === 0) return Buffer.alloc(0);
      const view = Buffer.from(this.#win.koffi.view(this.#readBuffer, bytes));
      const copy = Buffer.from(view);
      view.fill(0);
      return copy;
    } catch (error) {
      if (error instanceof Win32IoError && this.#ended(error.win32Code)) return null;
      throw error;
    }
  }

  #ended(code: number): boolean {
    return this.#closed || code === ERROR_BROKEN_PIPE || code === 233 /* ERROR_PIPE_NOT_CONNECTED */ || code === 995;
  }

  override _read(): void {
    if (this.#reading || this.#closed) return;
    this.#reading = true;
    void (async () => {
      try {
        for (;;) {
          const chunk = await this.readOnce();
          if (chunk === null) {
            this.push(null);
            break;
          }
          if (chunk.length > 0 && !this.push(chunk)) break;
        }
      } catch (error) {
        this.destroy(error as Error);
      } finally {
        this.#reading = false;
        this.#freeWhenIdle();
      }
    })();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void (async () => {
      try {
        for (let offset = 0; offset < chunk.length; ) {
          if (this.#closed) throw new Error('the pipe is closed');
          const part = chunk.subarray(offset, offset + BUFFER_BYTES);
          const staged = new Uint8Array(this.#win.koffi.view(this.#writeBuffer, part.length));
          staged.set(part);
          try {
            offset += await this.#write.run(this.#pipe, 'WriteFile', this.#waiter, (ov) =>
              this.#win.WriteFile(this.#pipe, this.#writeBuffer, part.length, null, ov),
            );
          } finally {
            // a reply may carry a secret (docs/windows.md §5): nothing stays in native memory
            staged.fill(0);
          }
        }
        callback();
      } catch (error) {
        callback(error as Error);
      } finally {
        this.#freeWhenIdle();
      }
    })();
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
    this.destroy();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#closed) {
      this.#closed = true;
      // Pending reads and writes end with ERROR_OPERATION_ABORTED; the memory is freed after them.
      if (this.#read.busy || this.#write.busy) this.#win.CancelIoEx(this.#pipe, null);
      this.#freeWhenIdle();
    }
    callback(error);
  }

  #freed = false;
  #freeWhenIdle(): void {
    if (!this.#closed || this.#freed || this.#read.busy || this.#write.busy || this.#reading) return;
    this.#freed = true;
    // Closing the handle lets the client read what was written; DisconnectNamedPipe would discard it.
    this.#win.CloseHandle(this.#pipe);
    this.#read.free();
    this.#write.free();
    this.#win.koffi.free(this.#readBuffer);
    this.#win.koffi.free(this.#writeBuffer);
    this.#onClosed();
  }
}

function securityAttributes(win: Win32): {
  attributes: { nLength: number; lpSecurityDescriptor: Pointer; bInheritHandle: number };
  release(): void;
} {
  const descriptor: [Pointer] = [null];
  check(
    win,
    win.ConvertStringSecurityDescriptorToSecurityDescriptorW(
      PIPE_SECURITY_DESCRIPTOR,
      SDDL_REVISION_1,
      descriptor,
      null,
    ),
    CODE,
    'ConvertStringSecurityDescriptorToSecurityDescriptorW',
  );
  return {
    attributes: { nLength: 24, lpSecurityDescriptor: descriptor[0], bInheritHandle: 0 },
    release: () => win.LocalFree(descriptor[0]),
  };
}

/**
 * Whether anyone holds the name already, asked without connecting: WaitNamedPipeW says "not
 * found" only when no instance exists. FILE_FLAG_FIRST_PIPE_INSTANCE is the race-free check on
 * Windows; wine 8 does not enforce that flag, and this catches a live holder there too.
 */
function refuseHeldName(win: Win32, endpoint: string): void {
  if (win.WaitNamedPipeW(endpoint, 1) === 0 && win.GetLastError() === ERROR_FILE_NOT_FOUND) return;
  throw new InsecurePathError(
    endpoint,
    `another process already holds the pipe ${endpoint} (another agent, or a program posing as one); stop it first`,
  );
}

async function listen(endpoint: string, events: LocalServerEvents): Promise<LocalServer> {
  const win = useWin32(CODE);
  const waiter = new EventWaiter(win);
  const security = securityAttributes(win);
  let open = 0;
  let closing = false;
  let pending: { pipe: number; slot: OverlappedSlot } | null = null;
  let wakeAccept: (() => void) | null = null;

  const create = (first: boolean): number => {
    const pipe = win.CreateNamedPipeW(
      endpoint,
      PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      PIPE_UNLIMITED_INSTANCES,
      BUFFER_BYTES,
      BUFFER_BYTES,
      0,
      security.attributes,
    );
    if (pipe === INVALID_HANDLE_VALUE || pipe === 0) {
      const code = win.GetLastError();
      if (first && code === ERROR_ACCESS_DENIED)
        throw new InsecurePathError(
          endpoint,
          `another process already holds the pipe ${endpoint} (another agent, or a program posing as one); stop it first`,
        );
      throw new SystemError(CODE, `cannot create the pipe ${endpoint}: ${describeWin32Error(code)}`);
    }
    return pipe;
  };

  let next: number | null;
  try {
    refuseHeldName(win, endpoint);
    next = create(true);
  } catch (error) {
    security.release();
    throw error;
  }

  const serve = async (pipe: number): Promise<void> => {
    open++;
    const stream = new PipeStream(win, pipe, waiter, () => {
      open--;
      wakeAccept?.();
    });
    const timer = setTimeout(() => stream.destroy(), FIRST_BYTES_TIMEOUT_MS);
    try {
      let first: Buffer | null = Buffer.alloc(0);
      while (first !== null && first.length === 0) first = await stream.readOnce();
      clearTimeout(timer);
      if (first === null) {
        stream.destroy();
        return;
      }
      let caller: Caller;
      try {
        caller = callerFromToken(win, pipe);
      } catch (error) {
        first.fill(0);
        // Without a caller the server refuses it with its own sentence (docs/ipc.md "Peer credentials").
        unidentified.set(stream, error as Error);
        events.connection(stream);
        return;
      }
      callers.set(stream, caller);
      stream.unshift(first);
      events.connection(stream);
    } catch (error) {
      clearTimeout(timer);
      stream.destroy();
      if (!closing) events.error(error as Error);
    }
  };

  const acceptLoop = async (): Promise<void> => {
    while (!closing) {
      if (open >= MAX_CONNECTIONS) {
        await new Promise<void>((resolve) => {
          wakeAccept = resolve;
        });
        wakeAccept = null;
        continue;
      }
      let pipe: number;
      try {
        pipe = next ?? create(false);
      } catch (error) {
        // out of instances or resources: said in the log, tried again (the lock screen's fallback meanwhile)
        events.error(error as Error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_FAILURE_MS));
        continue;
      }
      next = null;
      const slot = new OverlappedSlot(win);
      pending = { pipe, slot };
      try {
        await slot.run(pipe, 'ConnectNamedPipe', waiter, (ov) => win.ConnectNamedPipe(pipe, ov));
      } catch (error) {
        if (!(error instanceof Win32IoError && error.win32Code === ERROR_PIPE_CONNECTED)) {
          pending = null;
          slot.free();
          win.CloseHandle(pipe);
          if (closing) return;
          events.error(error as Error);
          await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_FAILURE_MS));
          continue;
        }
      }
      pending = null;
      slot.free();
      if (closing) {
        win.CloseHandle(pipe);
        return;
      }
      void serve(pipe);
    }
  };
  const accepting = acceptLoop().catch((error: unknown) => events.error(error as Error));

  return {
    endpoint,
    async close() {
      closing = true;
      wakeAccept?.();
      if (pending) win.CancelIoEx(pending.pipe, null);
      await accepting;
      security.release();
    },
  };
}

function identifyCaller(stream: Duplex): Caller {
  const caller = callers.get(stream);
  if (!caller) throw new SystemError(CODE, "the caller's token could not be read", { cause: unidentified.get(stream) });
  return caller;
}

function identifyServer(_stream: Duplex): Listener {
  // Node's pipe client does not expose the HANDLE GetNamedPipeServerProcessId needs.
  throw new SystemError(
    CODE,
    "reading the pipe server's identity is not available to Node's pipe client on Windows (the credential provider checks it: docs/windows.md §4.5)",
  );
}

/** Without `connect`: a client connects alike on every OS (platform.ts). */
export const namedPipeTransport: Omit<LocalTransport, 'connect'> = {
  defaultEndpoint: DEFAULT_PIPE,
  listen,
  identifyCaller,
  identifyServer,
};
