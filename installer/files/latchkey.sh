#!/bin/sh
# The latchkey command: the application under the Node runtime this package carries, with the
# V8 flags the agent ships with (cli/agent-process.ts explains them).
exec /usr/lib/latchkey/node/bin/node --lite-mode --no-expose-wasm --single-threaded-gc /usr/lib/latchkey/bin/latchkey.js "$@"
