#!/usr/bin/env node
// Entry point for the `latchkey` command. The TypeScript sources are compiled to dist/ by
// `npm ci` (the `prepare` script); this file only hands over to the compiled CLI.
import('../dist/cli/main.js').then(
  (cli) => cli.main(process.argv.slice(2)),
  (error) => {
    process.stderr.write(
      `latchkey: the compiled CLI is missing (${error.code ?? error.message}); run \`npm ci\` or \`npm run build\` in the checkout first\n`,
    );
    process.exitCode = 1;
  },
);
