/**
 * The workstation's side of one unlock exchange over a connected, subscribed GATT link
 * (docs/ble-protocol.md §5–6): fragments out, fragments in, the per-step timers, and the
 * WorkstationHandshake deciding. The link is an interface, so this file knows nothing of noble.
 */
import { performance } from 'node:perf_hooks';
import { BleProtocolError, type BleProtocolErrorCode } from './protocol/errors.js';
import { Fragmenter, Reassembler } from './protocol/framing.js';
import { WorkstationHandshake, type WorkstationStep } from './protocol/handshake-workstation.js';
import { encodeError, ErrorCode } from './protocol/message-codec.js';
import type { WorkstationPairing } from './protocol/pairing-records.js';
import type { RandomSource } from '../protocol/crypto/hashes.js';

/** What the exchange needs from a connected GATT link. */
export interface ExchangeLink {
  /** Negotiated ATT_MTU. */
  readonly mtu: number;
  /** Writes one fragment to the control point (Write Command). */
  write(fragment: Uint8Array): Promise<void>;
  /**
   * Writes one fragment with a Write Request and resolves on the Write Response. Present only
   * when the handles came from a cache: HELLO's last fragment then proves the control-point
   * handle is still right, at no extra round trip (the response travels with READY's run).
   */
  writeConfirmed?(fragment: Uint8Array): Promise<void>;
  /** Calls `listener` with each notified fragment; returns a function that stops it. */
  onFragment(listener: (fragment: Uint8Array) => void): () => void;
  onDisconnect(listener: () => void): () => void;
  /** The connection's RSSI (HCI Read RSSI), or null when the adapter cannot say. */
  readRssi(): Promise<number | null>;
}

export interface ExchangeOptions {
  readonly approvalTimeoutMs: number;
  readonly proofDeadlineMs?: number;
  readonly minRssi?: number | null;
  readonly random?: RandomSource;
  /** Request 0x02: the eph of this phone's copy; the phone releases k in PROOF (docs/windows.md §6.5). */
  readonly copyEph?: Uint8Array;
}

export type ExchangeResult =
  | {
      readonly ok: true;
      readonly proofMs: number;
      readonly rssi: number | null;
      readonly exchangeMs: number;
      /** With `copyEph`: the copy key the phone released (the caller wipes it). */
      readonly copyKey?: Uint8Array;
    }
  | {
      readonly ok: false;
      readonly code: BleProtocolErrorCode | 'disconnected' | 'gatt-setup-failed';
      readonly reason: string;
      readonly peerCode?: number;
    };

const CONFIRM_TIMEOUT_MS = 500;

export function runWorkstationExchange(
  link: ExchangeLink,
  pairing: WorkstationPairing,
  tag: Uint8Array,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const handshake = new WorkstationHandshake(pairing, tag, {
    ...(options.proofDeadlineMs !== undefined && { proofDeadlineMs: options.proofDeadlineMs }),
    ...(options.minRssi !== undefined && { minRssi: options.minRssi }),
    ...(options.random !== undefined && { random: options.random }),
    ...(options.copyEph !== undefined && { copyEph: options.copyEph }),
  });
  const reassembler = new Reassembler(link.mtu);
  const fragmenter = new Fragmenter(link.mtu);
  const started = performance.now();

  return new Promise<ExchangeResult>((resolve) => {
    let finished = false;
    let stepTimer: NodeJS.Timeout | undefined;
    let fragmentTimer: NodeJS.Timeout | undefined;
    const stops: (() => void)[] = [];

    let settled = false;
    /** No more input: the outcome is decided (only the last message may still be going out). */
    const stopListening = (): void => {
      finished = true;
      clearTimeout(stepTimer);
      clearTimeout(fragmentTimer);
      for (const stop of stops.splice(0)) stop();
    };
    const finish = (result: ExchangeResult): void => {
      if (settled) return;
      settled = true;
      stopListening();
      resolve(result);
    };
    const send = async (message: Uint8Array): Promise<void> => {
      for (const fragment of fragmenter.fragment(message)) await link.write(fragment);
    };
    /** Hands the last message to the adapter before the result lets the caller disconnect. */
    const sendLast = async (message: Uint8Array | null): Promise<void> => {
      if (message) await send(message).catch(() => undefined);
      // noble writes ACL data a few microtasks after a write resolves; let it reach the socket.
      await new Promise((resolve) => setImmediate(resolve));
    };
    const fail = (error: unknown, message: Uint8Array | null): void => {
      if (finished) return;
      const failure =
        error instanceof BleProtocolError
          ? error
          : new BleProtocolError('step-timeout', 'internal fault in the exchange', { cause: error });
      const result: ExchangeResult = {
        ok: false,
        code: failure.code,
        reason: failure.message,
        ...(failure.peerCode !== undefined && { peerCode: failure.peerCode }),
      };
      stopListening();
      // Tell the phone why (ERROR or a refusing VERDICT), best effort.
      void sendLast(message).then(() => finish(result));
    };
    const arm = (ms: number): void => {
      clearTimeout(stepTimer);
      stepTimer = setTimeout(() => onStep(handshake.timeout()), ms);
    };

    const onStep = (step: WorkstationStep): void => {
      if (finished) return;
      switch (step.kind) {
        case 'send':
          clearTimeout(stepTimer);
          send(step.message)
            .then(() => {
              handshake.challengeSent(performance.now());
              if (handshake.state === 'challenge-sent') arm((options.proofDeadlineMs ?? 300) + 1);
            })
            .catch((error) =>
              fail(new BleProtocolError('step-timeout', 'CHALLENGE could not be written', { cause: error }), null),
            );
          return;
        case 'proof-verified':
          clearTimeout(stepTimer);
          void link
            .readRssi()
            .catch(() => null)
            .then((rssi) => {
              if (finished) return;
              const { decision, message } = handshake.conclude(rssi);
              const exchangeMs = performance.now() - started;
              // The VERDICT only informs the phone; hand it to the adapter before the link goes.
              stopListening();
              void sendLast(message).then(() => {
                if (decision.ok)
                  finish({
                    ok: true,
                    proofMs: decision.proofMs,
                    rssi: decision.rssi,
                    exchangeMs,
                    ...(decision.copyKey && { copyKey: decision.copyKey }),
                  });
                else finish({ ok: false, code: decision.code, reason: decision.reason });
              });
            });
          return;
        case 'failed':
          fail(step.error, step.message);
      }
    };

    stops.push(
      link.onFragment((fragment) => {
        if (finished) return;
        let message: Uint8Array | null;
        try {
          message = reassembler.push(fragment, performance.now());
        } catch (error) {
          fail(error, encodeError(ErrorCode.badMessage));
          return;
        }
        clearTimeout(fragmentTimer);
        const deadline = reassembler.deadline;
        if (deadline !== null) {
          fragmentTimer = setTimeout(
            () => {
              try {
                reassembler.checkTimeout(performance.now() + 1);
              } catch (error) {
                fail(error, encodeError(ErrorCode.timeout));
              }
            },
            deadline - performance.now() + 2,
          );
        }
        if (message) onStep(handshake.receive(message, performance.now()));
      }),
      link.onDisconnect(() =>
        finish({ ok: false, code: 'disconnected', reason: 'the phone disconnected during the exchange' }),
      ),
    );

    const helloFragments = fragmenter.fragment(handshake.hello());
    const last = helloFragments.pop()!;
    const confirm = link.writeConfirmed;
    (async () => {
      for (const fragment of helloFragments) await link.write(fragment);
      if (confirm) {
        // The last fragment as a Write Request: its response shares READY's run, so no extra round trip.
        if (!(await withTimeout(confirm.call(link, last), CONFIRM_TIMEOUT_MS))) {
          finish({
            ok: false,
            code: 'gatt-setup-failed',
            reason: 'the cached control-point handle did not answer: the GATT layout changed',
          });
          return;
        }
      } else await link.write(last);
      if (handshake.state === 'hello-sent' && !settled) arm(options.approvalTimeoutMs);
    })().catch((error) =>
      fail(new BleProtocolError('step-timeout', 'HELLO could not be written', { cause: error }), null),
    );
  });
}

/** True when the promise settles in time; false when it does not (noble never rejects an ATT error). */
function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}
