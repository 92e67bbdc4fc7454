// An installer's enrollment file end to end (docs/deployment.md "The enrollment file"): a real
// agent process starts while its Control Center is down, keeps retrying, enrolls once the
// Control Center answers, deletes the file, and never logs the token; a refused token is
// deleted too and not retried.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnAgent, writeAgentConfig, type AgentProcess } from '../../helpers/agent-harness.js';
import { ControlCenterProcess, eventually, freePort } from '../../helpers/online-stack.js';

let dir: string;
let cc: ControlCenterProcess;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  dir = await makeTempDir();
  cc = new ControlCenterProcess(path.join(dir, 'cc.db'), await freePort());
  await cc.start();
});

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await cc.stop();
});

async function newToken(): Promise<{ token: string; id: string }> {
  const created = await cc.admin(['--json', 'install-tokens', 'create', '--note', 'enroll-file']);
  const { token, installTokenId } = JSON.parse(created.stdout) as { token: string; installTokenId: string };
  return { token, id: installTokenId };
}

describe('enroll.json dropped by an installer', () => {
  it('enrolls at the first start once the Control Center is reachable, then deletes the file', async () => {
    const { token } = await newToken();
    await cc.stop(); // the network is away when the agent starts
    await fs.mkdir(path.join(dir, 'ws1'), { mode: 0o700 });
    const files = await writeAgentConfig(path.join(dir, 'ws1'), {});
    const enrollFile = path.join(files.dir, 'enroll.json');
    await fs.writeFile(enrollFile, JSON.stringify({ url: cc.url, installToken: token, name: 'desk-from-file' }), {
      mode: 0o600,
    });
    const agent = await spawnAgent(files);
    agents.push(agent);
    await eventually(
      'a failed first attempt',
      async () => (/workstation\.enroll-failed .*unreachable/.test(agent.output()) ? true : undefined),
      20_000,
    );
    expect(await fs.stat(enrollFile)).toBeTruthy(); // kept while the Control Center is away
    await cc.start();
    await eventually(
      'enrollment',
      async () => (/workstation\.managed/.test(agent.output()) ? true : undefined),
      60_000,
    );
    await eventually('the file removed', async () =>
      /enroll-file\.removed .*install token used/.test(agent.output()) ? true : undefined,
    );
    await expect(fs.stat(enrollFile)).rejects.toMatchObject({ code: 'ENOENT' });
    const listed = await cc.admin(['workstations', 'list']);
    expect(listed.stdout).toContain('desk-from-file');
    expect(agent.output()).not.toContain(token);
  });

  it('deletes a token the Control Center refuses, and does not retry it', async () => {
    const { token, id } = await newToken();
    expect((await cc.admin(['install-tokens', 'revoke', id])).code).toBe(0);
    await fs.mkdir(path.join(dir, 'ws2'), { mode: 0o700 });
    const files = await writeAgentConfig(path.join(dir, 'ws2'), {});
    const enrollFile = path.join(files.dir, 'enroll.json');
    await fs.writeFile(enrollFile, JSON.stringify({ url: cc.url, installToken: token }), { mode: 0o600 });
    const agent = await spawnAgent(files);
    agents.push(agent);
    await eventually(
      'the refusal',
      async () => (/enroll-file\.removed/.test(agent.output()) ? true : undefined),
      20_000,
    );
    expect(agent.output()).toMatch(/workstation\.enroll-failed/);
    expect(agent.output()).not.toMatch(/workstation\.managed/);
    expect(agent.output()).not.toContain(token);
    await expect(fs.stat(enrollFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
