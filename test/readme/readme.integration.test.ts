/**
 * The README's shell blocks run as written (issue 10 item 16), so the README cannot drift from
 * what the code does. Every ```sh block carries an HTML comment that says how it is proven:
 *
 * - `run in order, one sandbox`: the blocks so marked run one after another, literally, in one
 *   bash in a private copy of this machine — a mount namespace with overlays over /etc, /usr,
 *   /var and /home (their changes land in a temp dir), a fresh /run, its own network namespace
 *   (127.0.0.1:8080 is its own) and its own PID namespace (every process a block leaves in the
 *   background ends with it), HOME in a temp dir. Its output is checked for what the README
 *   promises.
 * - `covered by FILE`: another test runs these commands (packages are built and installed in
 *   test/installer/): this test checks the file exists and holds the block's commands.
 * - Quick start: its first line's `npx latchkey demo` runs here; its second line is the test
 *   command this suite is part of, which `.ci/run` must call exactly.
 * A block without a comment fails the test.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/agent-harness.js';

interface Block {
  readonly directive: string;
  readonly code: string;
  readonly line: number;
}

/** Every ```sh block with the `<!-- readme-test: … -->` comment just above it. */
function readmeBlocks(): Block[] {
  const lines = readFileSync(join(REPO, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    const above = lines.slice(Math.max(0, i - 2), i).join('\n');
    const directive = /<!-- readme-test: (.+?) -->/.exec(above)?.[1] ?? '';
    blocks.push({ directive, code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

const OVERLAID = ['etc', 'usr', 'var', 'home'];
const work = mkdtempSync('/tmp/latchkey-readme-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `script` with bash -e in the private copy of the machine described above. */
function inSandbox(script: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  for (const dir of OVERLAID)
    for (const part of ['upper', 'work']) mkdirSync(join(work, 'overlay', dir, part), { recursive: true });
  const home = join(work, 'home-root');
  mkdirSync(home, { recursive: true });
  // The mounts happen inside the new namespaces, after unshare: they can never land on this machine.
  const setup = [
    'set -e',
    ...OVERLAID.map(
      (dir) =>
        `mount -t overlay overlay -o lowerdir=/${dir},upperdir=${work}/overlay/${dir}/upper,workdir=${work}/overlay/${dir}/work /${dir}`,
    ),
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    'ip link set lo up',
    `export HOME=${home}`,
    `cd ${REPO}`,
    'set -x',
  ].join('\n');
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--net',
      '--pid',
      '--fork',
      'bash',
      '-e',
      '-o',
      'pipefail',
      '-c',
      `${setup}\n${script}\n`,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_update_notifier: 'false' },
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs); // the PID namespace's first process: its end ends them all
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const blocks = readmeBlocks();

describe('README.md', () => {
  it('says for every shell block how it is proven', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks)
      expect(block.directive, `the block at README.md:${block.line} has no readme-test comment`).not.toBe('');
  });

  it('Quick start: the test command is the one .ci/run calls, and the demo runs', async () => {
    const [quick] = blocks.filter((block) => block.directive.startsWith('the first line runs'));
    const [demoLine, testLine] = quick!.code.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
    expect(testLine).toBe('npm ci && npm test');
    expect(readFileSync(join(REPO, '.ci/run'), 'utf8')).toMatch(/^npm ci && npm test$/m);
    // `npm ci` is what set up this very checkout; the rest runs as written.
    expect(demoLine).toBe('npm ci && npx latchkey demo');
    const demo = await inSandbox(demoLine!.replace(/^npm ci && /, ''), 120_000);
    expect(demo.code, demo.output).toBe(0);
    expect(demo.output).toMatch(/offline mode off \(R1: off by default\)/);
    expect(demo.output).toMatch(/Unlocked — \d+ offline PINs left\./);
  }, 150_000);

  it('the blocks a test elsewhere runs are in that test', () => {
    const covered = blocks.filter((candidate) => candidate.directive.startsWith('covered by '));
    expect(covered.length).toBeGreaterThan(0);
    for (const block of covered) {
      const files = block.directive.slice('covered by '.length).split(' and ');
      const tests = files
        .map((file) => {
          expect(existsSync(join(REPO, file)), file).toBe(true);
          return readFileSync(join(REPO, file), 'utf8');
        })
        .join('\n');
      // Each npm script the block runs, and each system command it starts a line with, is in the test.
      for (const [, script] of block.code.matchAll(/npm run ([\w:-]+)/g))
        expect(tests, `${files.join(', ')} runs npm run ${script}`).toContain(script!);
      for (const command of ['debconf-set-selections', 'apt-get'])
        if (block.code.includes(command)) expect(tests, `${files.join(', ')} runs ${command}`).toContain(command);
    }
  });

  it('"Running it for real": every line runs as written, and does what the README says', async () => {
    const script = blocks
      .filter((block) => block.directive === 'run in order, one sandbox')
      .map((block) => block.code)
      .join('\n');
    const run = await inSandbox(script, 300_000);
    const output = run.output;
    expect(run.code, output).toBe(0);
    // The agent alone: a PIN from `latchkey pins` unlocks.
    expect(output).toContain('Unlocked — 24 offline PINs left.');
    // The lock screen would prompt.
    expect(output).toMatch(/✓ pam_latchkey\.so is installed/);
    expect(output).toMatch(/A PIN prompt appears for alice at: common-auth/);
    // The Control Center: enrolled, paired, approved, and the phone shows an offline PIN.
    expect(output).toMatch(/Enrolled with http:\/\/127\.0\.0\.1:8080/);
    expect(output).toMatch(/Paired with .* as alice/);
    expect(output).toMatch(/Approved on your phone — unlocked\./);
    expect(output).toMatch(/Offline PIN for .* \(alice\), 1 of 25:\n {2}[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\n/);
  }, 360_000);
});
