// The command line both package builders share (npm run package:deb, package:rpm): options,
// staging the application once, building each package, printing its installed size.
import { mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { PACKAGES, ROOT, packageVersion, stageApp } from './staging.mjs';
import { describeSize } from './tree.mjs';

/**
 * Runs `build(name, context)` for each package asked for; `build` returns { file, installedKiB }.
 * Options: --version V, --out DIR, --only NAME, --compression xz|gzip.
 */
export function runPackageBuild({ label, versionPattern, build }) {
  try {
    // commander, like the latchkey command: one CLI parser in the project. Its errors become this script's one line.
    const values = new Command()
      .option('--version <version>')
      .option('--out <dir>')
      .option('--only <name>')
      .option('--compression <kind>', 'xz or gzip', 'xz')
      .exitOverride()
      .configureOutput({ writeErr: () => undefined })
      .parse()
      .opts();
    const version = values.version ?? packageVersion();
    if (!versionPattern.test(version)) throw new Error(`--version ${version} is not a valid ${label} version`);
    if (!['xz', 'gzip'].includes(values.compression)) throw new Error('--compression must be xz or gzip');
    const names = values.only ? [values.only] : Object.keys(PACKAGES);
    for (const name of names)
      if (!PACKAGES[name]) throw new Error(`--only ${name}: the packages are ${Object.keys(PACKAGES).join(', ')}`);
    const out = resolve(values.out ?? join(ROOT, 'dist-packages'));
    const staging = join(out, 'staging');
    mkdirSync(staging, { recursive: true });
    const appDir = join(staging, 'app');
    stageApp(appDir, version);
    const context = {
      version,
      staging,
      appDir,
      cacheDir: join(ROOT, 'dist-packages', 'cache'),
      out,
      compression: values.compression,
    };
    try {
      for (const name of names) {
        const built = build(name, context);
        const shown = relative(process.cwd(), built.file);
        process.stdout.write(
          `${shown.startsWith('..') ? built.file : shown}: installed size ${describeSize(built.installedKiB)}\n`,
        );
      }
    } finally {
      rmSync(staging, { recursive: true, force: true }); // hundreds of MB; the packages are what counts
    }
  } catch (error) {
    process.stderr.write(`package:${label}: ${error.message}\n`);
    process.exit(1);
  }
}
