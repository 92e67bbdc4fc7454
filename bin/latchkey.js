#!/usr/bin/env -S node --lite-mode --no-expose-wasm --single-threaded-gc
// Entry point for the `latchkey` command. The TypeScript sources are compiled to dist/ by
// `npm ci` (the `prepare` script); this file only hands over to the compiled CLI.
//
// V8 flags (cli/agent-process.ts explains them): lite mode drops the optimising compiler,
// which the agent — bound by Argon2id and fsync, not by JavaScript — does not need, and which
// otherwise costs it ~8 MB of resident memory for its whole life.
import('../dist/cli/main.js').then(
  (cli) => cli.main(process.argv.slice(2)),
  (error) => {
    process.stderr.write(
      `latchkey: the compiled CLI is missing (${error.code ?? error.message}); run \`npm ci\` or \`npm run build\` in the checkout first\n`,
    );
    process.exitCode = 1;
  },
);
