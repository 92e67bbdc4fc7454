// The virtual controller driven with raw H4 packets, as a host's HCI layer would drive it: the
// command answers hosts depend on, advertising and scanning, connections, ACL relaying with
// flow control and the packet-boundary rewrite, and robustness against garbage.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../protocol/bytes.js';
import { H4Splitter, VirtualController, type Port } from '../../../ble/virtual-controller/index.js';

let controller: VirtualController | null = null;
afterEach(() => {
  controller?.close();
  controller = null;
});

interface Host {
  readonly port: Port;
  readonly received: Uint8Array[];
  command(opcode: number, params?: number[]): void;
  acl(handle: number, boundary: number, data: number[]): void;
}

function host(c: VirtualController, name: string): Host {
  const port = c.addPort(name);
  const received: Uint8Array[] = [];
  port.attach((packet) => received.push(packet));
  return {
    port,
    received,
    command: (opcode, params = []) =>
      c.receive(port, Uint8Array.of(0x01, opcode & 0xff, opcode >> 8, params.length, ...params)),
    acl: (handle, boundary, data) =>
      c.receive(
        port,
        Uint8Array.of(
          0x02,
          handle & 0xff,
          (handle >> 8) | (boundary << 4),
          data.length & 0xff,
          data.length >> 8,
          ...data,
        ),
      ),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const hex = (packets: Uint8Array[]) => packets.map(toHex);
const le = (address: string) =>
  address
    .split(':')
    .reverse()
    .map((b) => Number.parseInt(b, 16));
const leMeta = (packets: Uint8Array[], sub: number) =>
  packets.filter((p) => p[0] === 0x04 && p[1] === 0x3e && p[3] === sub);

/** Two hosts, `b` advertising connectably, `a` connected to it; returns the handles. */
async function connected(c: VirtualController): Promise<{ a: Host; b: Host; ha: number; hb: number }> {
  const a = host(c, 'a');
  const b = host(c, 'b');
  b.command(0x2006, [0xa0, 0, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0]);
  b.command(0x200a, [1]);
  a.command(0x200d, [0x60, 0, 0x30, 0, 0, 0, ...le(b.port.publicAddress), 0, 6, 0, 12, 0, 0, 0, 42, 0, 0, 0, 0, 0]);
  await tick();
  const [ca] = leMeta(a.received, 0x01);
  const [cb] = leMeta(b.received, 0x01);
  return { a, b, ha: ca![5]! | (ca![6]! << 8), hb: cb![5]! | (cb![6]! << 8) };
}

describe('virtual controller: commands', () => {
  it('answers Reset with exactly the Command Complete the UART driver waits for', async () => {
    controller = new VirtualController();
    const a = host(controller, 'a');
    a.command(0x0c03);
    await tick();
    expect(hex(a.received)).toEqual(['040e0401030c00']);
  });

  it('reports HCI 5.0 from the Linux Foundation, an LE buffer of 27 × N, and its BD_ADDR; the vendor command moves the address', async () => {
    controller = new VirtualController({ aclBufferCount: 4 });
    const a = host(controller, 'a');
    a.command(0x1001);
    a.command(0x2002);
    a.command(0x1009);
    a.command(0xfc06, [6, 5, 4, 3, 2, 0xc1]);
    a.command(0x1009);
    await tick();
    expect(hex(a.received)).toEqual([
      '040e0c0101100009000009f1050000',
      '040e07010220001b0004',
      '040e0a010910000100004b4c02',
      '040e040106fc00',
      '040e0a010910000605040302c1',
    ]);
  });

  it('refuses unknown commands and short parameters with a status, never an exception', async () => {
    controller = new VirtualController();
    const a = host(controller, 'a');
    a.command(0x2099);
    a.command(0x200d, [1, 2, 3]);
    controller.receive(a.port, Uint8Array.of(0x01, 0x03, 0x0c, 5)); // declares 5 parameter bytes, has none
    await tick();
    expect(hex(a.received)).toEqual(['040e0401992001', '040e04010d2012']);
  });
});

describe('virtual controller: advertising and connections', () => {
  it('reports an advertiser to an active scanner with its scan response, once per data when filtering duplicates', async () => {
    controller = new VirtualController({ advertisingIntervalMs: 10 });
    const scanner = host(controller, 'scanner');
    const phone = host(controller, 'phone');
    controller.setRssi('phone', -61);
    phone.command(0x2008, [3, 2, 1, 6, ...new Array(28).fill(0)]);
    phone.command(0x200a, [1]);
    scanner.command(0x200b, [1, 0x12, 0, 0x12, 0, 0, 0]);
    scanner.command(0x200c, [1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reports = leMeta(scanner.received, 0x02);
    expect(reports.map((r) => r[5])).toEqual([0x00, 0x04]); // ADV_IND, then SCAN_RSP; duplicates filtered
    expect(toHex(reports[0]!)).toBe(`043e0f02010000${toHex(Uint8Array.from(le(phone.port.publicAddress)))}03020106c3`);
    const rotated = controller.rotateAddress('phone');
    await tick();
    const after = leMeta(scanner.received, 0x02).at(-2)!;
    expect(after[6]).toBe(1); // random address type
    expect(toHex(after.subarray(7, 13))).toBe(toHex(Uint8Array.from(le(rotated))));
    expect(after[7 + 5]! >> 6).toBe(0b01); // resolvable-style random address
  });

  it('connects to an advertiser that shows up later, and a cancelled attempt completes with 0x02', async () => {
    controller = new VirtualController();
    const a = host(controller, 'a');
    const b = host(controller, 'b');
    a.command(0x200d, [0x60, 0, 0x30, 0, 0, 0, ...le(b.port.publicAddress), 0, 6, 0, 12, 0, 0, 0, 42, 0, 0, 0, 0, 0]);
    await tick();
    expect(leMeta(a.received, 0x01)).toHaveLength(0);
    b.command(0x200a, [1]);
    await tick();
    expect(leMeta(a.received, 0x01)[0]![4]).toBe(0x00);
    expect(leMeta(b.received, 0x01)[0]![7]).toBe(0x01); // role: peripheral
    const c = host(controller, 'c');
    c.command(0x200d, [0x60, 0, 0x30, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 6, 0, 12, 0, 0, 0, 42, 0, 0, 0, 0, 0]);
    c.command(0x200e);
    await tick();
    expect(leMeta(c.received, 0x01)[0]![4]).toBe(0x02);
  });

  it('relays ACL data: PB flag 0x00 arrives as 0x02, long PDUs are cut to 27 bytes, the sender gets Number of Completed Packets', async () => {
    controller = new VirtualController();
    const { a, b, ha, hb } = await connected(controller);
    expect(ha).not.toBe(hb);
    const att = [0x52, 0x10, 0x00, ...new Array(40).fill(0xab)];
    a.acl(ha, 0x00, [att.length, 0, 4, 0, ...att]);
    await tick();
    const data = b.received.filter((p) => p[0] === 0x02);
    expect(data.map((p) => p[2]! >> 4)).toEqual([0x2, 0x1]);
    expect(data.map((p) => p[3])).toEqual([27, 4 + att.length - 27]);
    expect(data.every((p) => ((p[1]! | (p[2]! << 8)) & 0x0fff) === hb)).toBe(true);
    expect(hex(a.received.filter((p) => p[1] === 0x13))).toEqual([
      `04130501${toHex(Uint8Array.of(ha & 0xff, ha >> 8))}0100`,
    ]);
    expect(controller.connections[0]!.att).toMatchObject([
      { direction: 'central-to-peripheral', opcode: 0x52, length: att.length },
    ]);
  });

  it('ends a link on Disconnect with reason 0x16 for the host that asked and its reason for the peer', async () => {
    controller = new VirtualController();
    const { a, b, ha, hb } = await connected(controller);
    a.command(0x0406, [ha & 0xff, ha >> 8, 0x13]);
    await tick();
    expect(hex(a.received.filter((p) => p[1] === 0x05))).toEqual([
      `040504${'00'}${toHex(Uint8Array.of(ha & 0xff, ha >> 8))}16`,
    ]);
    expect(hex(b.received.filter((p) => p[1] === 0x05))).toEqual([
      `040504${'00'}${toHex(Uint8Array.of(hb & 0xff, hb >> 8))}13`,
    ]);
  });

  it('drops ACL for unknown handles and survives any garbage a host writes', async () => {
    controller = new VirtualController();
    const { a, b } = await connected(controller);
    a.acl(0x0abc, 0x00, [1, 0, 4, 0, 0x52]);
    for (let i = 0; i < 2000; i++) controller.receive(a.port, new Uint8Array(randomBytes(1 + (i % 40))));
    await tick();
    expect(b.received.filter((p) => p[0] === 0x02)).toHaveLength(0);
  });
});

describe('H4 stream splitting (pseudo-terminals)', () => {
  it('cuts packets across chunk boundaries and resynchronises after garbage', () => {
    const splitter = new H4Splitter();
    const reset = Uint8Array.of(0x01, 0x03, 0x0c, 0x00);
    const event = Uint8Array.of(0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00);
    const acl = Uint8Array.of(0x02, 0x40, 0x00, 0x02, 0x00, 0xaa, 0xbb);
    const stream = Uint8Array.of(0xff, 0x00, ...reset, ...event, ...acl);
    const out = [
      ...splitter.push(stream.subarray(0, 5)),
      ...splitter.push(stream.subarray(5, 9)),
      ...splitter.push(stream.subarray(9)),
    ];
    expect(hex(out)).toEqual([toHex(reset), toHex(event), toHex(acl)]);
    expect(splitter.skipped).toBe(2);
  });
});
