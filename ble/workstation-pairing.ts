/**
 * The workstation's side of one pairing exchange over a connected GATT link
 * (docs/ble-protocol.md §12.3): PAIR-HELLO out, PAIR-READY in, PAIR-CONFIRM out, PAIR-DONE in,
 * each step bounded. The WorkstationPairingHandshake decides; this file only moves messages.
 */
import { BleTransportError, type BleUnlockFailureCode } from './errors.js';
import { MessageChannel } from './message-channel.js';
import { PAIRING_STEP_TIMEOUT_MS } from './protocol/constants.js';
import { BleProtocolError } from './protocol/errors.js';
import type { PairedPeer, WorkstationPairingHandshake } from './protocol/pairing-handshake.js';
import type { ExchangeLink } from './workstation-exchange.js';

export type PairingExchangeResult =
  | { readonly ok: true; readonly peer: PairedPeer }
  | { readonly ok: false; readonly code: BleUnlockFailureCode; readonly reason: string; readonly peerCode?: number };

export async function runWorkstationPairing(
  link: ExchangeLink,
  handshake: WorkstationPairingHandshake,
  stepTimeoutMs = PAIRING_STEP_TIMEOUT_MS,
): Promise<PairingExchangeResult> {
  const channel = new MessageChannel(link);
  const quiet = () => new BleProtocolError('step-timeout', 'the phone did not answer the pairing step in time');
  try {
    await channel.send(handshake.hello());
    for (;;) {
      let message: Uint8Array;
      try {
        message = await channel.receive(stepTimeoutMs, quiet);
      } catch (error) {
        const step = error instanceof BleProtocolError && error.code === 'step-timeout' ? handshake.timeout() : null;
        if (step?.kind === 'failed' && step.message) await channel.send(step.message).catch(() => undefined);
        throw error;
      }
      const step = handshake.receive(message);
      switch (step.kind) {
        case 'send':
          await channel.send(step.message);
          continue;
        case 'done':
          return { ok: true, peer: step.peer };
        case 'store':
          throw new BleProtocolError('unexpected-message', 'the workstation does not store a pairing mid-exchange');
        case 'failed':
          // Tell the phone why (a wrong code, most often), best effort, before the link goes.
          if (step.message) await channel.send(step.message).catch(() => undefined);
          await new Promise((resolve) => setImmediate(resolve));
          return {
            ok: false,
            code: step.error.code,
            reason: step.error.message,
            ...(step.error.peerCode !== undefined && { peerCode: step.error.peerCode }),
          };
      }
    }
  } catch (error) {
    if (error instanceof BleProtocolError)
      return {
        ok: false,
        code: error.code,
        reason: error.message,
        ...(error.peerCode !== undefined && { peerCode: error.peerCode }),
      };
    if (error instanceof BleTransportError) return { ok: false, code: error.code, reason: error.message };
    return { ok: false, code: 'disconnected', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    channel.close();
  }
}
