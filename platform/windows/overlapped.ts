/**
 * Overlapped I/O on Windows handles without blocking the event loop or a thread per operation:
 * every pending operation has an OVERLAPPED with its own event, and one call of
 * WaitForMultipleObjects on koffi's worker (a libuv pool thread) waits for all of them plus a
 * wake event, which a new operation sets to be added to the wait. So the agent holds one pool
 * thread however many clients are connected, and Node's own file I/O keeps the rest.
 */
import { SystemError } from '../system-error.js';
import {
  ERROR_IO_PENDING,
  INFINITE,
  OVERLAPPED_BYTES,
  OVERLAPPED_EVENT_OFFSET,
  WAIT_FAILED,
  WAIT_OBJECT_0,
  describeWin32Error,
  type Pointer,
  type Win32,
} from './win32.js';

/** WaitForMultipleObjects takes at most 64 handles; one is the wake event. */
const MAX_WAIT_OBJECTS = 64;

export class Win32IoError extends SystemError {
  constructor(
    readonly win32Code: number,
    what: string,
  ) {
    super('peer-credentials-unavailable', `${what} failed: ${describeWin32Error(win32Code)}`);
  }
}

/** Waits for events on one worker thread; `wait` resolves once the event is signalled. */
export class EventWaiter {
  readonly #win: Win32;
  readonly #wake: number;
  readonly #waiting = new Map<number, () => void>();
  #running = false;

  constructor(win: Win32) {
    this.#win = win;
    this.#wake = win.CreateEventW(null, 1, 0, null);
    if (this.#wake === 0) throw new Win32IoError(win.GetLastError(), 'CreateEventW');
  }

  wait(event: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiting.set(event, resolve);
      if (this.#running) this.#win.SetEvent(this.#wake);
      else this.#loop();
    });
  }

  #loop(): void {
    const events = [...this.#waiting.keys()].slice(0, MAX_WAIT_OBJECTS - 1);
    if (events.length === 0) {
      this.#running = false;
      return;
    }
    this.#running = true;
    const handles = [this.#wake, ...events];
    const { koffi } = this.#win;
    const array = koffi.alloc('intptr_t', handles.length);
    koffi.encode(array, koffi.array('intptr_t', handles.length), handles);
    this.#win.WaitForMultipleObjects.async(handles.length, array, 0, INFINITE, (error: unknown, result: number) => {
      koffi.free(array);
      if (error || result === WAIT_FAILED || result >= WAIT_OBJECT_0 + handles.length) {
        // Nothing sensible is left to wait on: fail every waiter loudly rather than hang.
        const reason = error ? String(error) : describeWin32Error(this.#win.GetLastError());
        throw new Error(`WaitForMultipleObjects failed: ${reason}`);
      }
      const index = result - WAIT_OBJECT_0;
      if (index === 0) this.#win.ResetEvent(this.#wake);
      else {
        const event = handles[index]!;
        const resolve = this.#waiting.get(event);
        this.#waiting.delete(event);
        resolve?.();
      }
      this.#loop();
    });
  }
}

/** One OVERLAPPED and its event in memory the kernel may write until the operation completes. */
export class OverlappedSlot {
  readonly #win: Win32;
  readonly overlapped: Pointer;
  readonly event: number;
  busy = false;

  constructor(win: Win32) {
    this.#win = win;
    this.event = win.CreateEventW(null, 1, 0, null);
    if (this.event === 0) throw new Win32IoError(win.GetLastError(), 'CreateEventW');
    this.overlapped = win.koffi.alloc('uint8_t', OVERLAPPED_BYTES);
  }

  /**
   * Starts an operation (`start` is ReadFile, WriteFile or ConnectNamedPipe with this slot's
   * OVERLAPPED) and resolves with the bytes it transferred, or rejects with its Win32 error.
   */
  async run(
    handle: number,
    what: string,
    waiter: EventWaiter,
    start: (overlapped: Pointer) => number,
  ): Promise<number> {
    const win = this.#win;
    const { koffi } = win;
    koffi.encode(this.overlapped, koffi.array('uint8_t', OVERLAPPED_BYTES), new Array(OVERLAPPED_BYTES).fill(0));
    koffi.encode(this.overlapped, OVERLAPPED_EVENT_OFFSET, 'intptr_t', this.event);
    win.ResetEvent(this.event);
    this.busy = true;
    try {
      if (start(this.overlapped) === 0) {
        const code = win.GetLastError();
        if (code !== ERROR_IO_PENDING) throw new Win32IoError(code, what);
        await waiter.wait(this.event);
      }
      const transferred: [number] = [0];
      if (win.GetOverlappedResult(handle, this.overlapped, transferred, 0) === 0)
        throw new Win32IoError(win.GetLastError(), what);
      return transferred[0];
    } finally {
      this.busy = false;
    }
  }

  /** Only once no operation is pending on it. */
  free(): void {
    this.#win.CloseHandle(this.event);
    this.#win.koffi.free(this.overlapped);
  }
}
