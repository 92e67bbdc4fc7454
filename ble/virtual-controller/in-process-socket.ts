/**
 * An in-process HCI transport for noble and bleno: a drop-in for @stoprocent/bluetooth-hci-socket's
 * driver classes (bindRaw/bindUser, start, stop, write, isDevUp, 'data' events) that hands H4
 * packets straight to a VirtualController port. Selected per instance with
 * `withBindings('hci', { hciDriver: VirtualHciSocket, bindParams: { virtual: { controller, port } } })`
 * once ble/stack.ts has taught loadDriver to accept a class.
 */
import { EventEmitter } from 'node:events';
import type { VirtualController } from './controller.js';
import type { Port } from './port.js';

export interface VirtualBindParams {
  readonly virtual: { readonly controller: VirtualController; readonly port: string };
}

export class VirtualHciSocket extends EventEmitter {
  #controller: VirtualController | null = null;
  #port: Port | null = null;
  #up = false;

  bindRaw(devId: number | undefined, params?: Partial<VirtualBindParams>): number {
    return this.bindUser(devId, params);
  }

  bindUser(devId: number | undefined, params?: Partial<VirtualBindParams>): number {
    const virtual = params?.virtual;
    if (!virtual) throw new Error('the virtual HCI driver needs bindParams.virtual = { controller, port }');
    this.#controller = virtual.controller;
    this.#port = virtual.controller.port(virtual.port);
    return devId ?? 0;
  }

  /** bleno opens a management ("control") socket per connection for SMP keys: it stays inert here. */
  bindControl(): number {
    return 0;
  }

  start(): void {
    const port = this.#port;
    if (!port) return;
    port.attach((packet) => this.emit('data', Buffer.from(packet)));
    this.#up = true;
  }

  stop(): void {
    this.#port?.detach();
    this.#up = false;
  }

  isDevUp(): boolean {
    return this.#up;
  }

  setFilter(): void {}

  reset(): void {}

  write(data: Buffer): void {
    if (!this.#up || !this.#port || !this.#controller) return;
    this.#controller.receive(this.#port, new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice());
  }

  getDeviceList(): Promise<
    {
      devId: number;
      devUp: boolean;
      idVendor: null;
      idProduct: null;
      busNumber: null;
      deviceAddress: null;
      path: string;
    }[]
  > {
    return Promise.resolve(
      this.#port
        ? [
            {
              devId: 0,
              devUp: this.#up,
              idVendor: null,
              idProduct: null,
              busNumber: null,
              deviceAddress: null,
              path: `virtual:${this.#port.name}`,
            },
          ]
        : [],
    );
  }
}
