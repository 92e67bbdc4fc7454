/**
 * Loads CommonJS dependencies (commander, @node-rs/argon2, @napi-rs/keyring) with require().
 * Importing a CommonJS package from ESM makes Node scan its source with cjs-module-lexer,
 * which left the agent ~8 MB larger for its whole life (bench/agent-verify.mjs, idle RSS).
 */
import { createRequire } from 'node:module';

export const requireCjs = createRequire(import.meta.url);
