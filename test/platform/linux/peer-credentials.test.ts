import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPeerCredentials, type PeerCredentials } from '../../../platform/linux/peer-credentials.js';
import { requireRoot } from './helpers.js';

const NOBODY = 65534;
// Self-contained (node:net only) so a process running as nobody can read and run it.
const CLIENT = `import net from 'node:net';
const socket = net.connect(process.argv[2], () => {
  socket.end(JSON.stringify({ pid: process.pid, uid: process.getuid(), gid: process.getgid() }));
});
socket.resume();
`;

let directory: string;
let socketPath: string;
let server: net.Server;
/** What the server saw per connection, with what the client said about itself. */
const seen: Array<Promise<{ credentials: PeerCredentials; claimed: PeerCredentials }>> = [];

beforeAll(async () => {
  requireRoot('The SO_PEERCRED suite');
  directory = mkdtempSync(path.join(os.tmpdir(), 'latchkey-peercred-'));
  chmodSync(directory, 0o755);
  writeFileSync(path.join(directory, 'client.mjs'), CLIENT, { mode: 0o644 });
  socketPath = path.join(directory, 'agent.sock');
  server = net.createServer((socket) => {
    const credentials = getPeerCredentials(socket);
    seen.push(
      new Promise((resolve, reject) => {
        let body = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (body += chunk));
        socket.on('end', () => {
          socket.end();
          resolve({ credentials, claimed: JSON.parse(body) as PeerCredentials });
        });
        socket.on('error', reject);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666);
});

afterAll(async () => {
  if (server) await new Promise((resolve) => server.close(resolve));
  if (directory) rmSync(directory, { recursive: true, force: true });
});

async function nextConnection() {
  const index = seen.length;
  await expect.poll(() => seen.length, { timeout: 5_000 }).toBeGreaterThan(index);
  return seen[index]!;
}

describe('getPeerCredentials (SO_PEERCRED)', () => {
  it('reports the test process itself: root, with its own pid', async () => {
    const connection = nextConnection();
    const client = net.connect(socketPath, () => {
      client.end(JSON.stringify({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() }));
    });
    client.resume();
    const { credentials, claimed } = await connection;
    expect(credentials).toEqual({ pid: process.pid, uid: 0, gid: 0 });
    expect(credentials).toEqual(claimed);
  });

  it('reports another process running as nobody: its pid, uid 65534 and gid 65534', async () => {
    const connection = nextConnection();
    const child = spawn(process.execPath, [path.join(directory, 'client.mjs'), socketPath], {
      uid: NOBODY,
      gid: NOBODY,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const { credentials, claimed } = await connection;
    expect(await exited).toBe(0);
    expect(credentials).toEqual({ pid: child.pid, uid: NOBODY, gid: NOBODY });
    expect(credentials).toEqual(claimed);
  });

  it('throws peer-credentials-unavailable for a socket that has no descriptor', () => {
    expect(() => getPeerCredentials(new net.Socket())).toThrow(
      expect.objectContaining({ name: 'SystemError', code: 'peer-credentials-unavailable' }),
    );
  });

  it('refuses a TCP socket, where the kernel would answer with the overflow uid', async () => {
    const tcp = net.createServer();
    const accepted = new Promise<net.Socket>((resolve) => tcp.once('connection', resolve));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const { port } = tcp.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    const socket = await accepted;
    try {
      expect(() => getPeerCredentials(socket)).toThrow(
        expect.objectContaining({
          code: 'peer-credentials-unavailable',
          message: expect.stringMatching(/Unix socket/),
        }),
      );
    } finally {
      client.destroy();
      socket.destroy();
      await new Promise((resolve) => tcp.close(resolve));
    }
  });
});
