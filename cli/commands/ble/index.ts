/**
 * `latchkey ble …`: Bluetooth unlock on the workstation (docs/cli.md "Bluetooth",
 * docs/ble-dongles.md). Parsing only. Pairing and unpairing go through the agent, which holds the
 * keys in the user's sealed state; the radio tools (virtual-controller, scan, test with
 * --pairing, dev-pairing) run their own adapter and end the process when done.
 */
import type { Command } from 'commander';
import { askOk, showCodeThenFinish } from '../../ask.js';
import { CliError, EXIT } from '../../../platform/exit-codes.js';
import { authenticatorOption, integerOption, userOption, withAgentOptions } from '../../options.js';
import { pairingCommand, userCommand } from '../../options.js';
import { adapterTransport, radioToolError, runThenExit, withAdapterOptions } from './adapter-options.js';
import type { AdapterOptions } from './adapter-options.js';
import type { UnlockTestFlags } from './radio-tools.js';
import type { VirtualControllerFlags } from './virtual-controller.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

// The Bluetooth stacks load only when a ble command runs.
type RadioTools = typeof import('./radio-tools.js');
const radioTools = () => import('./radio-tools.js');
const runBleDevPairing: RadioTools['runBleDevPairing'] = async (...args) =>
  (await radioTools()).runBleDevPairing(...args);
const runBleScan: RadioTools['runBleScan'] = async (...args) => (await radioTools()).runBleScan(...args);
const runBleUnlockTest: RadioTools['runBleUnlockTest'] = async (...args) =>
  (await radioTools()).runBleUnlockTest(...args);
const runVirtualController: typeof import('./virtual-controller.js')['runVirtualController'] = async (...args) =>
  (await import('./virtual-controller.js')).runVirtualController(...args);
const runAgentUnlockTest: typeof import('./agent-test.js')['runAgentUnlockTest'] = async (...args) =>
  (await import('./agent-test.js')).runAgentUnlockTest(...args);

/** A radio tool: its failure is one `latchkey:` line, exit 2 for an adapter, file or option value (docs/cli.md). */
const radioTool = (action: () => Promise<number>) => runThenExit(action, radioToolError);

export function registerBle(program: Command): void {
  const ble = program
    .command('ble')
    .description('Bluetooth unlock: pair a phone with no network, test an adapter, run a virtual controller');

  ble
    .command('virtual-controller')
    .description(
      'a virtual Bluetooth controller on pseudo-terminals, so two processes can act as two machines; prints "PORT PATH" per port and runs until stopped',
    )
    .option('--port <name>', 'a port to open (repeatable; default: phone and workstation)', collect)
    .option('--dir <dir>', 'where to make the pty links (default: a new temporary directory)')
    .option('--capture <dir>', 'write one btsnoop capture per port there (Wireshark opens it)')
    .option('--latency <ms>', 'one-way link latency')
    .option('--interval <ms>', 'connection interval: packets move only at connection events')
    .option('--acl-buffers <n>', 'ACL buffers per host (flow control)')
    .option('--json', 'print the ports as one JSON line')
    .option(
      '--commands',
      'read commands from stdin: "rotate PORT" (a new random address), "rssi PORT DBM", "stats", "state"',
    )
    .action((options: VirtualControllerFlags) => radioTool(() => runVirtualController(options)));

  withAdapterOptions(
    ble
      .command('scan')
      .description('list the Latchkey phones in range, and which development pairing each belongs to')
      .option('--pairing <file>', 'a development pairing file (repeatable) to recognise its phone', collect)
      .option('--seconds <n>', 'how long to listen', '5'),
  ).action((options: AdapterOptions & { pairing?: string[]; seconds: string }) =>
    radioTool(() => runBleScan(adapterTransport(options), options)),
  );

  const pair = pairingCommand(
    ble,
    'pair',
    "show a code to pair a user's phone over Bluetooth (root), and wait near it until the phone has used it",
  );
  withAgentOptions(pair).action(async (options: { user: string; wait: number; socket: string; timeout: number }) => {
    const started = await askOk(options.socket, { op: 'ble-pair', user: options.user }, options.timeout);
    await showCodeThenFinish(started, options, { label: 'Bluetooth pairing code', finish: 'ble-pair-finish' });
  });

  const unpair = userCommand(
    ble,
    'unpair',
    "forget a user's phone paired over Bluetooth (all of them without --device)",
  ).option('--device <id>', 'the phone, as "latchkey status" lists it (ble-…)', authenticatorOption);
  withAgentOptions(unpair).action(
    async (options: { user: string; device?: string; socket: string; timeout: number }) => {
      const reply = await askOk(
        options.socket,
        {
          op: 'ble-unpair',
          user: options.user,
          ...(options.device !== undefined && { authenticator: options.device }),
        },
        options.timeout,
      );
      process.stdout.write(`${reply.message}\n`);
    },
  );

  const test = withAdapterOptions(
    ble
      .command('test')
      .description(
        'repeated unlocks with a progress line, then the success rate and latency percentiles: through the agent (--user) or on an adapter with a development pairing file (--pairing)',
      )
      .option('--count <n>', 'how many unlocks', integerOption('--count', 1, 100_000), 10)
      .option(
        '--user <name>',
        'unlock this user through the running agent (its configured adapter), as the lock screen does',
        userOption,
      )
      .option('--wait <ms>', "with --user: each unlock's wait", integerOption('--wait', 500, 60_000), 5_000)
      .option('--pairing <file>', 'without the agent: a development pairing file (docs/ble-dongles.md)', collect)
      .option('--budget <ms>', "with --pairing: each unlock's budget")
      .option('--min-rssi <dbm>', 'with --pairing: the weakest signal accepted, or "off"')
      .option('--proof-deadline <ms>', 'with --pairing: the relay bound')
      .option('--mtu <n>', 'with --pairing: the ATT_MTU to ask for')
      .option('--json', 'print the summary as JSON'),
  );
  withAgentOptions(test).action(
    (
      options: AdapterOptions &
        Omit<UnlockTestFlags, 'pairing'> & { user?: string; wait: number; pairing?: string[]; socket: string },
    ) => {
      if ((options.user === undefined) === (options.pairing === undefined))
        throw new CliError('name either --user (through the agent) or --pairing FILE (on an adapter)', EXIT.usage);
      if (options.user !== undefined)
        return runThenExit(() =>
          runAgentUnlockTest({
            user: options.user!,
            count: options.count,
            wait: options.wait,
            socket: options.socket,
            json: options.json ?? false,
          }),
        );
      return radioTool(() => runBleUnlockTest(adapterTransport(options), { ...options, pairing: options.pairing! }));
    },
  );

  ble
    .command('dev-pairing')
    .description(
      'write a matching pair of development pairing files with fresh keys (for ble test/scan and "phone ble serve --pairing" without an agent)',
    )
    .requiredOption('--workstation <file>', 'the workstation side')
    .requiredOption('--phone <file>', 'the phone side')
    .option('--id <id>', 'the pairing id')
    .option('--name <name>', 'the workstation name the phone shows')
    .action((options: { workstation: string; phone: string; id?: string; name?: string }) =>
      radioTool(() => runBleDevPairing(options)),
    );
}
