/**
 * A workstation (real noble) and a phone (real bleno) on one in-process virtual controller,
 * with fresh pairing keys. Everything it starts is stopped by `close()`.
 */
import { randomBytes } from 'node:crypto';
import { WorkstationCentral, type WorkstationCentralOptions } from '../../ble/central.js';
import { PhonePeripheral, type PhonePeripheralOptions } from '../../ble/peripheral.js';
import { identityFromSeed, type PhonePairing, type WorkstationPairing } from '../../ble/protocol/pairing-records.js';
import { VirtualController, type VirtualControllerOptions } from '../../ble/virtual-controller/index.js';

export interface Pairing {
  readonly workstation: WorkstationPairing;
  readonly phone: PhonePairing;
}

/** What pairing leaves on both sides (docs/ble-protocol.md §1), with random keys. */
export function newPairing(id = 'phone-1', workstationSeed: Uint8Array = randomBytes(32)): Pairing {
  const pairingKey = new Uint8Array(randomBytes(32));
  const workstationIdentity = identityFromSeed(new Uint8Array(workstationSeed));
  const phoneIdentity = identityFromSeed(new Uint8Array(randomBytes(32)));
  return {
    workstation: { id, pairingKey, workstationIdentity, phonePublicKey: phoneIdentity.publicKey },
    phone: {
      id: `ws-for-${id}`,
      pairingKey,
      phoneIdentity,
      workstationPublicKey: workstationIdentity.publicKey,
      workstationName: 'ws-1',
    },
  };
}

export interface Rig {
  readonly controller: VirtualController;
  readonly phone: PhonePeripheral;
  readonly workstation: WorkstationCentral;
  close(): Promise<void>;
}

export async function startRig(
  options: {
    pairing?: Pairing;
    phonePairings?: readonly PhonePairing[];
    workstationPairings?: readonly WorkstationPairing[];
    controller?: VirtualControllerOptions;
    phone?: Partial<PhonePeripheralOptions>;
    workstation?: Partial<WorkstationCentralOptions>;
    /** Treat the workstation's port as a controller the OS shares, as hci:N is (no HCI Reset). */
    sharedWorkstation?: boolean;
  } = {},
): Promise<Rig> {
  const pairing = options.pairing ?? newPairing();
  const controller = new VirtualController({ advertisingIntervalMs: 20, ...options.controller });
  controller.addPort('phone');
  controller.addPort('workstation');
  let phone: PhonePeripheral | null = null;
  try {
    phone = await PhonePeripheral.start({
      transport: { kind: 'virtual', controller, port: 'phone' },
      pairings: options.phonePairings ?? [pairing.phone],
      approve: async () => true,
      ...options.phone,
    });
    const workstation = await WorkstationCentral.open({
      transport: {
        kind: 'virtual',
        controller,
        port: 'workstation',
        ...(options.sharedWorkstation && { shared: true }),
      },
      pairings: options.workstationPairings ?? [pairing.workstation],
      ...options.workstation,
    });
    return {
      controller,
      phone,
      workstation,
      async close() {
        workstation.close();
        await phone!.stop();
        controller.close();
      },
    };
  } catch (error) {
    await phone?.stop();
    controller.close();
    throw error;
  }
}
