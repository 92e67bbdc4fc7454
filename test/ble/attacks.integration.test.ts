// Unlocks that must be refused, with the real noble and the real bleno on the virtual controller:
// unpaired or impostor peers, replayed, reordered and tampered traffic (injected on the "air" by
// the controller), a late proof, a weak signal, and malformed or oversized fragments. Every
// refusal carries its code, and nothing crashes: a clean unlock still works afterwards.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { identityFromSeed } from '../../ble/protocol/pairing-records.js';
import { AttOpcode, type AttPduView } from '../../ble/virtual-controller/index.js';
import { rawSession, waitUntil } from './raw-central.js';
import { newPairing, startRig, type Rig } from './rig.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

const fromWorkstation = (pdu: AttPduView) => pdu.from === 'workstation' && pdu.opcode === AttOpcode.writeCommand;
const fromPhone = (pdu: AttPduView) => pdu.from === 'phone' && pdu.opcode === AttOpcode.notification;
/** Message id and fragment index of a fragment inside a Write Command or Notification (value after the 3-byte ATT header). */
const fragmentOf = (pdu: AttPduView) => ({ id: pdu.att[3], index: pdu.att[4] });
const flipLast = (att: Uint8Array) => {
  att[att.length - 1]! ^= 0x01;
  return att;
};
const withValue = (value: number[]) => (att: Uint8Array) => Uint8Array.of(...att.subarray(0, 3), ...value);

async function phoneOutcome(index = 0) {
  await waitUntil(() => rig!.phone.outcomes.length > index, 3_000, 'the phone outcome');
  return rig!.phone.outcomes[index]!;
}

/** The workstation hears the phone's error (peerCode) and the phone refused for `phoneCode`. */
async function expectRefusedByPhone(peerCode: number, phoneCode: string): Promise<void> {
  expect(await rig!.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: false, code: 'peer-error', peerCode });
  expect(await phoneOutcome()).toMatchObject({ ok: false, code: phoneCode });
}

/** The workstation refuses for `code`, for good, and tells the phone so (its verdict). */
async function expectRefusedByWorkstation(code: string, verdict: number): Promise<void> {
  expect(await rig!.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: false, code, retryable: false });
  expect(await phoneOutcome()).toMatchObject({ ok: true, accepted: false, verdict });
}

async function stillUnlocks(): Promise<void> {
  rig!.controller.faults.clear();
  expect(await rig!.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: true });
}

describe('who is refused', () => {
  it('an unpaired phone is not even recognised: no connection is attempted', async () => {
    rig = await startRig({ phonePairings: [newPairing('stranger').phone] });
    expect(await rig.workstation.unlock({ budgetMs: 500 })).toMatchObject({ ok: false, code: 'no-phone-found' });
    expect(rig.controller.connections).toHaveLength(0);
  });

  it('an impostor re-broadcasting the paired tag without the keys is refused by its own HELLO check', async () => {
    const real = newPairing();
    const impostor = {
      ...real.phone,
      phoneIdentity: identityFromSeed(new Uint8Array(randomBytes(32))),
      workstationPublicKey: identityFromSeed(new Uint8Array(randomBytes(32))).publicKey,
    };
    rig = await startRig({ pairing: real, phonePairings: [impostor] });
    await expectRefusedByPhone(0x02, 'bad-signature');
  });

  it("an impostor with the pairing key and the phone's public key, but not its private key, fails on PROOF", async () => {
    const real = newPairing();
    const impostor = {
      ...real.phone,
      phoneIdentity: { ...real.phone.phoneIdentity, privateKey: new Uint8Array(randomBytes(32)) },
    };
    rig = await startRig({ pairing: real, phonePairings: [impostor] });
    await expectRefusedByWorkstation('bad-signature', 1);
  });

  it('an unpaired workstation gets no approval prompt on the phone', async () => {
    const real = newPairing();
    let prompts = 0;
    const stranger = { ...real.workstation, workstationIdentity: identityFromSeed(new Uint8Array(randomBytes(32))) };
    rig = await startRig({
      pairing: real,
      workstationPairings: [stranger],
      phone: {
        approve: async () => {
          prompts += 1;
          return true;
        },
      },
    });
    await expectRefusedByPhone(0x02, 'bad-signature');
    expect(prompts).toBe(0);
  });
});

describe('replayed, reordered and tampered traffic is refused', () => {
  it('a tampered READY does not open', async () => {
    rig = await startRig();
    rig.controller.faults.onAtt(fromPhone, { kind: 'mutate', mutate: flipLast });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({
      ok: false,
      code: 'decrypt-failed',
      retryable: false,
    });
    expect(await phoneOutcome()).toMatchObject({ ok: false, code: 'peer-error' });
    await stillUnlocks();
  });

  it('a tampered HELLO fails its signature on the phone', async () => {
    rig = await startRig();
    rig.controller.faults.onAtt(fromWorkstation, { kind: 'mutate', mutate: flipLast });
    await expectRefusedByPhone(0x02, 'bad-signature');
  });

  it('reordered HELLO fragments are refused as a gap', async () => {
    rig = await startRig({ workstation: { mtu: 23 } });
    rig.controller.faults.onAtt(
      (pdu) => fromWorkstation(pdu) && fragmentOf(pdu).id === 0 && fragmentOf(pdu).index === 1,
      { kind: 'hold-until-next' },
    );
    await expectRefusedByPhone(0x04, 'fragment-gap');
  });

  it('a fragment replayed within the session is refused as a duplicate', async () => {
    rig = await startRig({ workstation: { mtu: 23 } });
    rig.controller.faults.onAtt((pdu) => fromPhone(pdu) && fragmentOf(pdu).index === 1, { kind: 'duplicate' });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: false, code: 'fragment-duplicate' });
  });

  it("a READY replayed from an earlier session does not open under this session's keys", async () => {
    rig = await startRig();
    let recorded: Uint8Array | null = null;
    rig.controller.faults.onAtt(
      (pdu) => {
        if (fromPhone(pdu) && recorded === null) recorded = pdu.att.slice();
        return false;
      },
      { kind: 'drop' },
    );
    expect((await rig.workstation.unlock({ budgetMs: 5_000 })).ok).toBe(true);
    rig.controller.faults.onAtt(fromPhone, { kind: 'mutate', mutate: () => recorded! });
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: false, code: 'decrypt-failed' });
  });

  it('a HELLO replayed to the phone on a new connection raises no second prompt', async () => {
    let prompts = 0;
    rig = await startRig({
      phone: {
        approve: async () => {
          prompts += 1;
          return true;
        },
      },
    });
    let hello: Uint8Array | null = null;
    rig.controller.faults.onAtt(
      (pdu) => {
        if (fromWorkstation(pdu) && hello === null) hello = pdu.att.slice(3);
        return false;
      },
      { kind: 'drop' },
    );
    expect((await rig.workstation.unlock({ budgetMs: 5_000 })).ok).toBe(true);
    const rogue = await rawSession(rig.controller, 'rogue');
    try {
      await rogue.write(hello!);
      await rogue.disconnected;
      expect(rig.phone.outcomes.at(-1)).toMatchObject({ ok: false, code: 'replayed-hello' });
      // The phone said why: ERROR 0x03 in fragment 0 of message 0.
      expect([...rogue.notifications[0]!]).toEqual([0, 0, 0, 3, 0x01, 0x7f, 0x03]);
      expect(prompts).toBe(1);
    } finally {
      await rogue.close();
    }
  });
});

describe('relay resistance', () => {
  it('a PROOF that arrives later than the bound is refused, and the phone is told', async () => {
    rig = await startRig({ workstation: { proofDeadlineMs: 300 } });
    rig.controller.faults.onAtt((pdu) => fromPhone(pdu) && fragmentOf(pdu).id === 1, { kind: 'delay', ms: 400 });
    await expectRefusedByWorkstation('reply-too-late', 2);
  });

  it('a phone heard below the RSSI threshold is not used', async () => {
    rig = await startRig({ workstation: { minRssi: -80 } });
    rig.controller.setRssi('phone', -90);
    expect(await rig.workstation.unlock({ budgetMs: 500 })).toMatchObject({ ok: false, code: 'signal-too-weak' });
    expect(rig.controller.connections).toHaveLength(0);
  });

  it('a signal that fades during the exchange is refused at the decision', async () => {
    rig = await startRig({ workstation: { minRssi: -80 } });
    rig.controller.faults.onAtt(
      (pdu) => {
        if (fromWorkstation(pdu) && fragmentOf(pdu).id === 1) rig!.controller.setRssi('phone', -95);
        return false;
      },
      { kind: 'drop' },
    );
    expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: false, code: 'signal-too-weak' });
    expect(await phoneOutcome()).toMatchObject({ ok: true, accepted: false, verdict: 3 });
  });
});

describe('malformed and oversized fragments are refused without a crash', () => {
  const toPhone: [string, number[], string][] = [
    ['a declared length of 513', [0, 0, 0x02, 0x01, ...new Array(16).fill(1)], 'message-too-large'],
    ['a one-byte fragment', [0], 'fragment-malformed'],
    ['a first fragment without payload', [0, 0, 0, 9], 'fragment-malformed'],
    ['a message id out of order', [5, 0, 0, 16, 1, 1], 'message-out-of-order'],
    ['a fragment that starts mid-message', [0, 3, 1, 1], 'fragment-gap'],
    ['a complete message of the wrong length', [0, 0, 0, 3, 1, 1, 0], 'message-malformed'],
    ['an unknown protocol version', [0, 0, 0, 3, 9, 1, 0], 'message-malformed'],
    ['a fragment longer than ATT_MTU − 3', [0, 0, 0, 30, ...new Array(26).fill(7)], 'fragment-too-large'],
  ];

  for (const [what, value, code] of toPhone) {
    it(`the phone refuses ${what} (${code}) and keeps serving`, async () => {
      rig = await startRig();
      const rogue = await rawSession(rig.controller, 'rogue', { mtu: 23 });
      try {
        await rogue.write(Uint8Array.from(value));
        await rogue.disconnected;
        expect(rig.phone.outcomes.at(-1)).toMatchObject({ ok: false, code });
      } finally {
        await rogue.close();
      }
      await stillUnlocks();
    });
  }

  it('the phone survives random garbage fragments', async () => {
    rig = await startRig();
    for (let i = 0; i < 10; i++) {
      const rogue = await rawSession(rig.controller, 'rogue', { mtu: 23 });
      try {
        for (let j = 0; j < 3 && rogue.peripheral.state === 'connected'; j++)
          await rogue.write(new Uint8Array(randomBytes(1 + ((i * 7 + j) % 20))));
        await Promise.race([rogue.disconnected, new Promise((resolve) => setTimeout(resolve, 1_500))]);
      } finally {
        await rogue.close();
      }
    }
    await stillUnlocks();
  });

  const toWorkstation: [string, number[], string][] = [
    ['a declared length of 513', [0, 0, 0x02, 0x01, 1, 2, 3], 'message-too-large'],
    ['a one-byte fragment', [0], 'fragment-malformed'],
    ['a fragment longer than ATT_MTU − 3', [0, 0, 0, 51, ...new Array(30).fill(7)], 'fragment-too-large'],
    ['an unknown message type', [0, 0, 0, 2, 1, 9], 'message-malformed'],
    [
      'a first fragment declaring fewer bytes than follow',
      [0, 0, 0, 50, 1, 3, ...new Array(14).fill(0)],
      'message-overrun',
    ],
  ];

  for (const [what, value, code] of toWorkstation) {
    it(`the workstation refuses ${what} from the phone (${code})`, async () => {
      rig = await startRig({ workstation: { mtu: 23 } });
      rig.controller.faults.onAtt(fromPhone, { kind: 'mutate', mutate: withValue(value) });
      expect(await rig.workstation.unlock({ budgetMs: 5_000 })).toMatchObject({ ok: false, code });
      await stillUnlocks();
    });
  }
});
