/**
 * `latchkey phone …`: the reference phone authenticator on the command line (docs/phone.md).
 * Parsing only; each action lives in phone/cli/actions.ts.
 */
import type { Command } from 'commander';
import { requireCjs } from '../../platform/load-cjs.js';
import { toCliError } from '../../phone/cli/exit-codes.js';
import type { GlobalOptions } from '../../phone/cli/open-phone.js';
import { readRequiredSecret } from '../../platform/read-secret.js';
import { integerOption, urlOption, userOption } from '../options.js';
import { adapterTransport, runThenExit, withAdapterOptions, type AdapterOptions } from './ble/adapter-options.js';

const { InvalidArgumentError } = requireCjs('commander') as typeof import('commander');

function nameOption(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
  if (value.length === 0 || value.length > 128 || /[\u0000-\u001f\u007f]/.test(value))
    throw new InvalidArgumentError('a name is 1–128 characters without control characters');
  return value;
}

async function run(global: Command, action: (options: GlobalOptions) => Promise<number>): Promise<void> {
  try {
    const code = await action(global.opts<GlobalOptions>());
    if (code !== 0) process.exitCode = code;
  } catch (error) {
    throw toCliError(error);
  }
}

/**
 * The module's functions, each importing the module when it is first called: the phone's code
 * (and its Bluetooth stack) loads only when a phone command runs, so `latchkey agent` and the
 * other commands stay small (bench/agent-verify.mjs, cold start and RSS).
 */
function importedOnFirstCall<M extends object>(load: () => Promise<M>): M {
  return new Proxy({} as M, {
    get:
      (_module, name) =>
      async (...args: unknown[]) =>
        ((await load())[name as keyof M] as (...values: unknown[]) => unknown)(...args),
  });
}
const actions = importedOnFirstCall(() => import('../../phone/cli/actions.js'));
const bleActions = importedOnFirstCall(() => import('../../phone/cli/ble-actions.js'));

export function registerPhone(program: Command): void {
  const phone = program
    .command('phone')
    .description(
      'the reference phone authenticator: pair, approve sign-ins, and show offline PINs (prints what the app screen shows)',
    )
    .option('--home <dir>', 'where the phone keeps its vault (default $LATCHKEY_PHONE_HOME, else ~/.latchkey-phone)')
    .option(
      '--passphrase-file <file>',
      `read the vault passphrase from this file's first line (default $LATCHKEY_PHONE_PASSPHRASE, else a prompt)`,
    )
    .option('--offline', 'behave as a phone with no network (airplane mode)')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 failure, 2 no offline PIN, 3 Control Center unreachable, 4 vault, 5 pairing refused,\n6 offer only, 64 usage (docs/phone.md).',
    );
  /** A subcommand about one paired workstation (and, with --user, one of its users there). */
  const workstationCommand = (name: string, description: string) =>
    phone
      .command(name)
      .argument('<workstation>', 'a workstation id (ws_…) or name')
      .description(description)
      .option('--user <name>', 'the user, when the phone is paired for several there', userOption);
  const target = (workstation: string, options: { user?: string }) => ({
    workstation,
    ...(options.user ? { user: options.user } : {}),
  });

  phone
    .command('init')
    .description("make this phone's keys and its encrypted vault")
    .option('--name <name>', 'how the phone is called on workstations', nameOption)
    .action((options: { name?: string }) => run(phone, (g) => actions.runInit(g, options.name)));

  phone
    .command('pair')
    .argument(
      '[code]',
      'the pairing code shown on the workstation (XXXXX-XXXX-XXXX-XXXX); read from stdin when left out',
    )
    .description('pair with a workstation (for the user it was shown for)')
    .requiredOption('--url <url>', 'the Control Center', urlOption)
    .option('--name <name>', 'how this phone is called on that workstation (default: the name from init)', nameOption)
    .action(async (code: string | undefined, options: { url: string; name?: string }) => {
      const typed =
        code ??
        Buffer.from(
          await readRequiredSecret('Pairing code: ', 'pairing code', 'give it as an argument, or pipe it in'),
        ).toString('utf8');
      await run(phone, (g) => actions.runPair(g, typed, options.url, options.name));
    });

  phone
    .command('status')
    .description('the main screen: workstations, offline PINs left, warnings, and whether the phone is online')
    .action(() => run(phone, actions.runStatus));

  workstationCommand(
    'tap',
    'sign in online; when the workstation does not answer within 5 s (or there is no internet), show an offline PIN',
  )
    .option('--offer-only', 'stop at the offer instead of showing the offline PIN')
    .option(
      '--pool-wait <s>',
      'after an approval, wait this long for new offline PINs',
      integerOption('--pool-wait', 0, 60),
      10,
    )
    .action((workstation: string, options: { user?: string; offerOnly?: boolean; poolWait: number }) =>
      run(phone, (g) => actions.runTap(g, target(workstation, options), options)),
    );

  workstationCommand('long-press', 'show the next offline PIN, online or not').action(
    (workstation: string, options: { user?: string }) =>
      run(phone, (g) => actions.runLongPress(g, target(workstation, options))),
  );

  phone
    .command('serve')
    .description('stay online: import new offline PINs and list sign-in requests (or approve them)')
    .option('--auto-approve', 'approve every sign-in request for a paired workstation (for tests and engineers)')
    .option('--once', 'one round, then exit')
    .option(
      '--timeout <s>',
      'stop after this many seconds (with --once: wait this long for the round)',
      integerOption('--timeout', 0, 86_400),
    )
    .action((options: { autoApprove?: boolean; once?: boolean; timeout?: number }) =>
      run(phone, (g) => actions.runServe(g, options)),
    );

  for (const decision of ['approve', 'deny'] as const) {
    phone
      .command(decision)
      .argument('[request]', 'the request id (ar_…); the only waiting one when left out')
      .description(`${decision} a waiting sign-in request`)
      .action((request: string | undefined) => run(phone, (g) => actions.runDecide(g, request, decision)));
  }

  workstationCommand('unpair', 'forget a workstation and its offline PINs on this phone').action(
    (workstation: string, options: { user?: string }) =>
      run(phone, (g) => actions.runUnpair(g, target(workstation, options))),
  );

  registerPhoneBle(phone);
  for (const command of phone.commands) command.exitOverride();
}

/** `latchkey phone … ble …`: pairing and unlocking over Bluetooth (docs/ble-protocol.md §12). */
function registerPhoneBle(phone: Command): void {
  const ble = phone
    .command('ble')
    .description('the phone over Bluetooth: pair with a workstation offline, and unlock it when it asks');
  const global = () => phone.opts<GlobalOptions>();

  withAdapterOptions(
    ble
      .command('pair')
      .argument(
        '[code]',
        'the code "latchkey ble pair" shows on the workstation (XXXXX-XXXX-XXXX-XXXX); read from stdin when left out',
      )
      .description('pair with the workstation showing CODE, over Bluetooth, with neither side online')
      .option('--wait <s>', 'how long to wait for the workstation to come near', integerOption('--wait', 1, 600), 120),
  ).action(async (code: string | undefined, options: AdapterOptions & { wait: number }) => {
    const typed =
      code ??
      Buffer.from(
        await readRequiredSecret('Pairing code: ', 'pairing code', 'give it as an argument, or pipe it in'),
      ).toString('utf8');
    await runThenExit(
      () => bleActions.runBlePair(global(), typed, adapterTransport(options), options.wait),
      toCliError,
    );
  });

  withAdapterOptions(
    ble
      .command('serve')
      .description(
        'advertise to the workstations paired over Bluetooth and answer their unlock requests (asks on the terminal unless --auto-approve)',
      )
      .option('--auto-approve', 'approve every unlock from a paired workstation (for tests and engineers)')
      .option('--count <n>', 'stop after this many unlock sessions', integerOption('--count', 0, 1_000_000), 0)
      .option('--timeout <s>', 'stop after this many seconds', integerOption('--timeout', 0, 86_400), 0)
      .option(
        '--pairing <file>',
        'serve the phone side of a development pairing file (repeatable; "latchkey ble dev-pairing" writes one) instead of the vault\'s pairings: no vault needed',
        (value: string, previous: string[] = []) => [...previous, value],
      ),
  ).action((options: AdapterOptions & { autoApprove?: boolean; count: number; timeout: number; pairing?: string[] }) =>
    runThenExit(() => bleActions.runBleServe(global(), adapterTransport(options), options), toCliError),
  );

  ble
    .command('unpair')
    .argument(
      '<workstation>',
      'the pairing id (ble-…), or the workstation as "ble list" ("alice on ws-1") or "status" ("ws-1") shows it',
    )
    .description('forget a workstation paired over Bluetooth on this phone')
    .option('--user <name>', 'the user, when the phone is paired over Bluetooth for several there', userOption)
    .action((workstation: string, options: { user?: string }) =>
      run(phone, (g) => bleActions.runBleUnpair(g, workstation, options.user)),
    );

  ble
    .command('list')
    .description('the workstations this phone unlocks over Bluetooth')
    .action(() => run(phone, bleActions.runBleList));

  for (const command of ble.commands) command.exitOverride();
}
