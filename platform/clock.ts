/**
 * The boot-clock seam: the agent's clocks, injected so tests can reboot and set the clock back without waiting
 * (STYLE.md §9). `bootId`/`uptimeMs` come from the kernel (CLOCK_BOOTTIME: counts suspend and
 * cannot be set); `wallMs` is the settable wall clock.
 */
import { currentPlatform } from './platform.js';

export interface ClockReading {
  readonly wallMs: number;
  readonly bootId: string;
  readonly uptimeMs: number;
}

export interface Clock {
  now(): ClockReading;
}

/** A clock tests move by hand: `advance`, `setWall` (the clock set back or forward), `reboot`. */
export class ManualClock implements Clock {
  #wallMs: number;
  #uptimeMs: number;
  #bootId: string;
  #boots = 0;

  constructor(start: { wallMs?: number; uptimeMs?: number; bootId?: string } = {}) {
    this.#wallMs = start.wallMs ?? Date.UTC(2026, 10, 28, 12);
    this.#uptimeMs = start.uptimeMs ?? 60_000;
    this.#bootId = start.bootId ?? 'boot-0';
  }

  now(): ClockReading {
    return { wallMs: this.#wallMs, bootId: this.#bootId, uptimeMs: this.#uptimeMs };
  }

  advance(ms: number): void {
    this.#wallMs += ms;
    this.#uptimeMs += ms;
  }

  setWall(wallMs: number): void {
    this.#wallMs = wallMs;
  }

  /** A reboot after `offMs` powered off: new boot id, uptime starts again. */
  reboot(offMs = 0): void {
    this.#wallMs += offMs;
    this.#uptimeMs = 5_000;
    this.#bootId = `boot-${++this.#boots}`;
  }
}

/** The kernel's clocks (CLOCK_BOOTTIME and the boot id on Linux: platform/linux/boot-clock.ts), read at each call. */
export const systemClock: Clock = { now: () => currentPlatform().bootClock.now() };
