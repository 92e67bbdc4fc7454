/**
 * What every Bluetooth subcommand shares (docs/cli.md "Bluetooth"): choosing the adapter —
 * `--transport SPEC`, or one of `--hci N`, `--uart PATH`, `--usb VID:PID` — reporting a radio
 * tool's failure as one `latchkey:` line with its exit code, and ending the process when the
 * action is done, because bleno keeps polling its adapter after it stops
 * (docs/ble-virtual-controller.md, *Limits*).
 */
import type { Command } from 'commander';
import { requireCjs } from '../../../platform/load-cjs.js';
import { BleTransportError, PairingFileError } from '../../../ble/errors.js';
import type { BleTransport } from '../../../ble/stack.js';
import { parseTransport } from '../../../ble/transport-spec.js';
import { CliError, EXIT } from '../../../platform/exit-codes.js';

const { InvalidArgumentError } = requireCjs('commander') as typeof import('commander');

/** docs/cli.md "Bluetooth": the radio tools could not use the adapter, or a file or option was wrong. */
export const RADIO_TOOL_FAILED = 2;

export interface AdapterOptions {
  readonly transport?: string;
  readonly hci?: string;
  readonly uart?: string;
  readonly usb?: string;
}

function checked(spec: string): string {
  try {
    parseTransport(spec);
    return spec;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Adds the adapter options (none given means `hci:0`). */
export function withAdapterOptions(command: Command): Command {
  return command
    .option(
      '--transport <spec>',
      'the adapter: hci:N, hci-user:N, uart:PATH[@BAUD] or usb:VID:PID (docs/ble-dongles.md)',
      checked,
    )
    .option('--hci <n>', 'a Linux kernel controller by HCI device id (same as --transport hci:N)')
    .option(
      '--uart <path>',
      'an H4 controller on a serial port, or a virtual controller pty (same as --transport uart:PATH)',
    )
    .option('--usb <vid:pid>', 'a USB dongle through libusb, ids in hex (same as --transport usb:VID:PID)');
}

/** The adapter the options name (default hci:0); more than one is a usage error. */
export function adapterSpec(options: AdapterOptions): string {
  const given = [
    options.transport,
    options.hci === undefined ? undefined : `hci:${options.hci}`,
    options.uart === undefined ? undefined : `uart:${options.uart}`,
    options.usb === undefined ? undefined : `usb:${options.usb}`,
  ].filter((spec): spec is string => spec !== undefined);
  if (given.length > 1) throw new CliError('name one adapter: --transport, --hci, --uart or --usb', EXIT.usage);
  const spec = given[0] ?? 'hci:0';
  try {
    parseTransport(spec);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.usage);
  }
  return spec;
}

export function adapterTransport(options: AdapterOptions): Exclude<BleTransport, { kind: 'virtual' }> {
  return parseTransport(adapterSpec(options));
}

/**
 * A radio tool's failure as the CLI reports it: a bad option value, an unusable adapter, or a
 * file that cannot be used is exit 2 with its sentence; anything else passes through (exit 1).
 */
export function radioToolError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const systemError = typeof code === 'string' && /^E[A-Z]+$/.test(code);
  if (
    error instanceof RangeError ||
    error instanceof TypeError ||
    error instanceof BleTransportError ||
    error instanceof PairingFileError ||
    systemError
  ) {
    return new CliError((error as Error).message, RADIO_TOOL_FAILED);
  }
  return error;
}

/**
 * Runs a Bluetooth action and ends the process with its exit code. Errors are reported as the
 * main program reports them (one `latchkey: …` line), mapped by `toError`.
 */
export async function runThenExit(
  action: () => Promise<number>,
  toError: (error: unknown) => unknown = (error) => error,
): Promise<never> {
  let code: number;
  try {
    code = await action();
  } catch (caught) {
    const error = toError(caught);
    process.stderr.write(`latchkey: ${error instanceof Error ? error.message : String(error)}\n`);
    code = error instanceof CliError ? error.exitCode : EXIT.failure;
  }
  process.exit(code);
}
