import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnAgent, writeAgentConfig, type AgentFiles } from '../helpers/agent-harness.js';
import { eventually } from '../helpers/online-stack.js';
import { askAgent } from '../../cli/agent-client.js';
import { installToken, startTestCc, type TestCc, putSettings } from '../control-center/helpers.js';

let cc: TestCc;
let files: AgentFiles;

beforeAll(async () => {
  cc = await startTestCc();
  await putSettings(cc, { offlineMode: true, pinCount: 10 });
  // The file says Offline Mode off; the Control Center's signed policy says on, and wins.
  files = await writeAgentConfig(
    await makeTempDir(),
    { offlineMode: false },
    { controlCenter: { url: cc.url, installToken: await installToken(cc), name: 'ws-log' } },
  );
}, 60_000);
afterAll(() => cc?.close());

describe('the agent log', () => {
  it('stopping an enrolled agent says it stopped, not that the Control Center went away', async () => {
    const agent = await spawnAgent(files);
    try {
      await eventually('the agent to enroll', async () =>
        agent.output().includes('workstation.managed') ? true : undefined,
      );
      await eventually('the long-polls to be waiting', async () =>
        agent.output().includes('policy.applied') ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await agent.stop('SIGTERM');
    }
    const afterStopping = agent.output().slice(agent.output().indexOf('agent.stopping'));
    expect(afterStopping).toContain('agent.stopping');
    expect(afterStopping).not.toContain('control-center.offline');
    expect(agent.output()).not.toContain('=undefined');
  }, 60_000);

  it('agent.ready prints the policy in force and where it came from', async () => {
    const agent = await spawnAgent(files);
    try {
      const ready = await readyLine(agent);
      expect(ready).toMatch(/offlineMode=true policyFrom="the Control Center \(signed, revision \d+\)"/);
      expect((await askAgent(files.socket, { op: 'status', user: 'daemon' }, 5_000)).offlineMode).toBe(true);
    } finally {
      await agent.stop('SIGTERM');
    }
  }, 60_000);

  it('an agent with no Control Center says its policy comes from its config file, or from the embedded defaults', async () => {
    const own = await writeAgentConfig(await makeTempDir(), { offlineMode: true });
    const agent = await spawnAgent(own);
    try {
      const ready = await readyLine(agent);
      expect(ready).toContain(`offlineMode=true policyFrom="the config file ${own.configFile}"`);
    } finally {
      await agent.stop('SIGTERM');
    }
  }, 30_000);
});

/** The agent's agent.ready line, once it is logged. */
function readyLine(agent: { output(): string }): Promise<string> {
  return eventually('agent.ready', async () =>
    agent
      .output()
      .split('\n')
      .find((line) => line.includes('agent.ready')),
  );
}
