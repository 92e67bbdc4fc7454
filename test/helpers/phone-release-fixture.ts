/**
 * The set the tests of the phone's release (docs/windows.md §6.5) run against: the agent in this
 * process and a `latchkey phone` CLI, with the virtual controller between them (over Bluetooth) or
 * a Control Center on loopback (online); the agent decides for win32 when given an account
 * (test/helpers/lock-screen.ts `windowsStandIn`). Every part is stopped by the suite's StopStack.
 */
import path from 'node:path';
import type { UserState } from '../../agent/state/user-state.js';
import { putSettings, startTestCc, type TestCc } from '../control-center/helpers.js';
import { makeTempDir, startInProcessAgent, writeAgentConfig, type InProcessAgent } from './agent-harness.js';
import { ControllerProcess } from './ble-stack.js';
import { windowsStandIn } from './lock-screen.js';
import { startManagedAgent } from './managed-agent.js';
import { PhoneCli } from './online-stack.js';
import { agentStateStore } from './phone-release.js';
import type { CliResult } from './run-cli.js';
import { startBeforeAll, type StopStack } from './stop-after-all.js';

const POLICY = { offlineMode: true, pinCount: 10 };

/** A Windows account on the agent's Linux side: its SID, and the password its check accepts now. */
export interface WindowsAccount {
  readonly user: string;
  readonly sid: string;
  readonly password: () => string;
}

export interface ReleaseSet {
  readonly agent: InProcessAgent;
  readonly phone: PhoneCli;
  /** The user's sealed state as the agent last wrote it (its store, read as a second reader). */
  state(user: string): Promise<UserState>;
  /** What the CLI printed during the tests: searched for secrets at the end (`expectNoSecrets`). */
  readonly outputs: CliResult[];
  /** Every copy key k of a phone copy the tests learnt: none may appear anywhere. */
  readonly copyKeys: Uint8Array[];
}

export interface BleReleaseSet extends ReleaseSet {
  readonly dir: string;
  readonly controller: ControllerProcess;
}

export interface OnlineReleaseSet extends ReleaseSet {
  readonly cc: TestCc;
  readonly phoneDir: string;
}

function releaseSet(agent: InProcessAgent, phone: PhoneCli): ReleaseSet {
  return {
    agent,
    phone,
    outputs: [],
    copyKeys: [],
    async state(user) {
      const state = await agentStateStore(agent.files).read(user);
      if (!state) throw new Error(`no state for ${user}`);
      return state;
    },
  };
}

function agentOptions(windows: WindowsAccount | undefined): Parameters<typeof startInProcessAgent>[1] {
  return windows ? { windows: windowsStandIn(windows.user, windows.sid, windows.password) } : {};
}

/** Over Bluetooth, started before the suite's tests and stopped after them. */
export function bleReleaseSetForSuite(options: BleOptions): BleReleaseSet & { readonly stack: StopStack } {
  return startBeforeAll((stack) => startBleReleaseSet(stack, options), 120_000);
}

/** Online, started before the suite's tests and stopped after them. */
export function onlineReleaseSetForSuite(options: OnlineOptions): OnlineReleaseSet & { readonly stack: StopStack } {
  return startBeforeAll((stack) => startOnlineReleaseSet(stack, options), 120_000);
}

interface BleOptions {
  readonly tempPrefix: string;
  readonly phoneName: string;
  readonly windows?: WindowsAccount;
}

interface OnlineOptions {
  readonly phoneTempPrefix: string;
  readonly phoneName: string;
  readonly windows?: WindowsAccount;
  readonly enrolledAs?: string;
}

/** Over Bluetooth: everything under `dir` (the controller's ptys, the agent's files, the phone's home). */
async function startBleReleaseSet(stack: StopStack, options: BleOptions): Promise<BleReleaseSet> {
  const dir = await makeTempDir(options.tempPrefix);
  const controller = stack.stop(await ControllerProcess.start(path.join(dir, 'pty'), ['phone', 'workstation']), (c) =>
    c.stop(),
  );
  const files = await writeAgentConfig(dir, POLICY, {
    ble: { enabled: true, transport: `uart:${controller.ports.workstation}`, budgetMs: 8_000 },
  });
  const agent = stack.stop(await startInProcessAgent(files, agentOptions(options.windows)), (a) => a.close());
  const phone = await PhoneCli.create(dir, options.phoneName);
  return { ...releaseSet(agent, phone), dir, controller };
}

/**
 * Online: a Control Center holding the offline policy; the agent enrolled with it as `enrolledAs`
 * when given (test/helpers/managed-agent.ts), or not yet (a test enrolls it). The phone's home is in
 * a directory of its own, `phoneDir` (for more phones), the agent's files in another; a phone left
 * serving is stopped.
 */
async function startOnlineReleaseSet(stack: StopStack, options: OnlineOptions): Promise<OnlineReleaseSet> {
  const cc = stack.stop(await startTestCc(), (c) => c.close());
  const agent = stack.stop(
    options.enrolledAs
      ? await startManagedAgent(cc, { name: options.enrolledAs, agent: agentOptions(options.windows) })
      : await startUnmanaged(cc, options.windows),
    (a) => a.close(),
  );
  const phoneDir = await makeTempDir(options.phoneTempPrefix);
  const phone = stack.stop(await PhoneCli.create(phoneDir, options.phoneName), (p) => p.stopServing());
  return { ...releaseSet(agent, phone), cc, phoneDir };
}

async function startUnmanaged(cc: TestCc, windows: WindowsAccount | undefined): Promise<InProcessAgent> {
  await putSettings(cc, POLICY);
  return startInProcessAgent(await writeAgentConfig(await makeTempDir(), POLICY), agentOptions(windows));
}
