/**
 * Short libFuzzer runs of the harnesses in native/pam/fuzz/ (the long run is
 * tools/fuzz-pam.sh): the reply parser, the option parser, the request encoder, and the
 * transport against a hostile agent on a real socket with failing allocations. A crash, a
 * sanitizer report (including a leak) or a broken invariant fails the run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cLibraries, compileC, scratchDir, removeScratchDir } from './helpers/native-tools.js';

const SECONDS = 6;

afterAll(() => removeScratchDir());

describe('libFuzzer harnesses (short run)', () => {
  const seeds = join(scratchDir(), 'seeds');
  execFileSync(process.execPath, [join(ROOT, 'tools/fuzz-seeds.mjs'), seeds]);

  it.each(['reply', 'options', 'encoder', 'transport'])(
    'fuzz-%s runs clean',
    (harness) => {
      const transport = harness === 'transport';
      const binary = compileC(
        `fuzz-${harness}`,
        [`native/pam/fuzz/fuzz-${harness}.c`],
        [
          '-fsanitize=fuzzer,address,undefined',
          '-fno-sanitize-recover=all',
          ...(transport ? ['-pthread', '-Dmalloc=fuzz_malloc'] : []),
        ],
        cLibraries(transport ? 'fuzz-malloc' : 'fuzz'),
      );
      const corpus = join(scratchDir(), `corpus-${harness}`);
      mkdirSync(corpus, { recursive: true });
      const dict = harness === 'options' ? [`-dict=${join(ROOT, 'native/pam/fuzz/options.dict')}`] : [];
      const run = spawnSync(
        binary,
        [
          corpus,
          join(seeds, harness),
          ...dict,
          `-max_total_time=${SECONDS}`,
          '-max_len=70000',
          '-timeout=10',
          '-print_final_stats=1',
          `-artifact_prefix=${join(scratchDir(), `${harness}-`)}`,
        ],
        { encoding: 'utf8', timeout: (SECONDS + 20) * 1000 },
      );
      const executed = Number(/stat::number_of_executed_units:\s+(\d+)/.exec(run.stderr)?.[1] ?? 0);
      expect(run.status, run.stderr.slice(-3000)).toBe(0);
      expect(executed).toBeGreaterThan(transport ? 1_000 : 10_000);
    },
    (SECONDS + 40) * 1000,
  );
});
