/** Types for installer/prune.mjs (used by test/installer/prune.test.ts). */
export declare const NOT_AT_RUNTIME: Record<string, string>;
/** Prunes an app's node_modules for a platform (default linux-x64) in place; returns the ELF objects it stripped, relative to it. */
export declare function pruneNodeModules(modules: string, platform?: string): string[];
