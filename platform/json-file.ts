/**
 * The one way a JSON file that grants access is read (STYLE.md §4, §10): through one descriptor
 * checked against its rule (secure-path.ts), at most `maxBytes`, parsed, then validated with its
 * schema. Every refusal is a JsonFileError whose `problem` says which step refused it; callers that
 * speak of the file in their own words (a config file, a manifest) build their sentence from it.
 */
import type { Stats } from 'node:fs';
import * as v from 'valibot';
import { describeIssues, describeJsonSyntaxError } from './schema-errors.js';
import { InsecurePathError, checkParentDirectory, ownedByThisProcess } from './secure-path.js';
import { readCheckedFileWithStats, type PathRule } from './secure-path.js';

export interface JsonFileRule extends PathRule {
  /** Also refuse the file when others may write its directory without the sticky bit (files an administrator writes). */
  readonly checkDirectory?: boolean;
}

/** A settings file an administrator writes (config): nobody else may write it or swap it through its directory. */
export const SETTINGS_FILE_RULE: JsonFileRule = Object.freeze({ forbiddenModeBits: 0o022, checkDirectory: true });

/** Why the file was not used: `missing` only for a file that is not there. */
export type JsonFileProblem = 'missing' | 'insecure' | 'too-large' | 'unreadable' | 'not-json' | 'invalid';

export class JsonFileError extends Error {
  readonly code = 'json-file';
  /** For `invalid`: the schema's issues (they may hold the values read: redact before showing a secret's). */
  readonly issues: readonly v.BaseIssue<unknown>[];
  /** For `not-json`: what is wrong with the text, on one line, with line and column. */
  readonly syntax: string;

  constructor(
    readonly problem: JsonFileProblem,
    readonly file: string,
    message: string,
    options: { cause?: unknown; issues?: readonly v.BaseIssue<unknown>[]; syntax?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'JsonFileError';
    this.issues = options.issues ?? [];
    this.syntax = options.syntax ?? '';
  }

  /** What the underlying failure said (a refused owner or mode, a read error), for messages that name the file their own way. */
  get reason(): string {
    return this.cause instanceof Error ? this.cause.message : this.message;
  }
}

/** Reads `file` as JSON valid against `schema` (see the module comment); throws JsonFileError. */
export async function readJsonFile<const S extends v.GenericSchema>(
  file: string,
  schema: S,
  rule: JsonFileRule,
  maxBytes: number,
): Promise<v.InferOutput<S>> {
  return (await readJsonFileWithStats(file, schema, rule, maxBytes)).value;
}

/** readJsonFile, also returning the stats the rule was checked on (for a second, content-dependent rule). */
export async function readJsonFileWithStats<const S extends v.GenericSchema>(
  file: string,
  schema: S,
  rule: JsonFileRule,
  maxBytes: number,
): Promise<{ value: v.InferOutput<S>; stats: Stats }> {
  let data: Buffer;
  let stats: Stats;
  try {
    if (rule.checkDirectory) await checkParentDirectory(file);
    ({ data, stats } = await readCheckedFileWithStats(file, rule, maxBytes));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new JsonFileError('missing', file, `${file} does not exist`, { cause: error });
    if (error instanceof InsecurePathError)
      throw new JsonFileError('insecure', file, `refusing ${file}: ${error.message}`, { cause: error });
    if (code === 'ELOOP')
      throw new JsonFileError('insecure', file, `refusing ${file}: it is a symbolic link (name the real file)`, {
        cause: error,
      });
    if (error instanceof RangeError) throw new JsonFileError('too-large', file, error.message, { cause: error });
    throw new JsonFileError('unreadable', file, `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const text = data.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const syntax = describeJsonSyntaxError(text, error);
    throw new JsonFileError('not-json', file, `${file} is not valid JSON (${syntax})`, { cause: error, syntax });
  }
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) {
    // The default sentence names keys and rules, never a value read (a file may hold a token).
    const quiet = parsed.issues.map((issue) => ({ ...issue, received: undefined })) as unknown as typeof parsed.issues;
    throw new JsonFileError('invalid', file, `${file}: ${describeIssues(quiet, '')}`, { issues: parsed.issues });
  }
  return { value: parsed.output, stats };
}

/**
 * A JSON file this process wrote into its own state directory (owned by it, not writable by others):
 * its value, or null when there is none; any other refusal is `fail`'s error, saying what the file
 * should have been (`what`: "a valid manifest").
 */
export async function readStateFile<const S extends v.GenericSchema>(
  file: string,
  schema: S,
  maxBytes: number,
  what: string,
  fail: (message: string, options: { cause: unknown }) => Error,
): Promise<v.InferOutput<S> | null> {
  try {
    return await readJsonFile(file, schema, ownedByThisProcess(0o022), maxBytes);
  } catch (error) {
    if (!(error instanceof JsonFileError)) throw error;
    if (error.problem === 'missing') return null;
    if (error.problem === 'not-json') throw fail(`${file} is not valid JSON`, { cause: error });
    if (error.problem === 'invalid')
      throw fail(`${file} is not ${what}: ${describeIssues(error.issues, '')}`, { cause: error });
    throw fail(`cannot read ${file}: ${error.reason}`, { cause: error });
  }
}
