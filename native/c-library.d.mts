// Types for native/c-library.mjs (a plain build script the TypeScript tests import).
export declare const ROOT: string;
export declare const LIBRARIES: { readonly pam_client: readonly string[]; readonly codec: readonly string[] };
export declare const MODULE_SOURCES: readonly string[];
export declare const INCLUDE_DIR: string;
export type CLibraryFlavour = 'test' | 'plain' | 'fuzz' | 'fuzz-malloc' | 'bench';
export declare const FLAVOURS: Readonly<Record<CLibraryFlavour, { readonly cc: string | undefined; readonly flags: readonly string[] }>>;
export declare const C_COMPILER: string | undefined;
/** Builds (when stale) and returns the paths of the flavour's libraries, in link order. */
export declare function buildLibraries(flavour: CLibraryFlavour): string[];
