import { afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './rig.js';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('unlock over the virtual controller (real noble, real bleno)', () => {
  it('a paired phone that approves unlocks the workstation', async () => {
    rig = await startRig();
    const result = await rig.workstation.unlock({ budgetMs: 5_000 });
    console.log(JSON.stringify(result));
    expect(result).toMatchObject({ ok: true, pairingId: 'phone-1', attempts: 1 });
    expect(await rig.phone.nextOutcome()).toMatchObject({ ok: true, accepted: true });
  });
});
