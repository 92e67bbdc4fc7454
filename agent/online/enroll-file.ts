/**
 * The enrollment file an installer drops (docs/deployment.md "The enrollment file"): the
 * Control Center's URL and an install token, read at start by an agent that is not enrolled yet
 * and deleted once used, so the token lives on disk only until the workstation has enrolled.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { ControlCenterUrlSchema, InstallTokenSchema, WorkstationNameSchema } from '../config.js';
import { fsyncDirectory } from '../../platform/durable-file.js';
import type { Logger } from '../../platform/log.js';
import { describeIssues } from '../../platform/schema-errors.js';
import { JsonFileError, readJsonFile } from '../../platform/json-file.js';

export const MAX_ENROLL_FILE_BYTES = 4096;

const EnrollFileSchema = v.strictObject(
  { url: ControlCenterUrlSchema, installToken: InstallTokenSchema, name: v.optional(WorkstationNameSchema) },
  'must be a JSON object',
);
export type EnrollFile = v.InferOutput<typeof EnrollFileSchema>;

/** Validates the parsed JSON of an enrollment file. Pure. */
export function parseEnrollFile(json: unknown, file: string): EnrollFile {
  const parsed = v.safeParse(EnrollFileSchema, json);
  if (!parsed.success) throw new Error(describeEnrollIssues(file, parsed.issues));
  return parsed.output;
}

/** The message names keys and rules, and values but the token's: a wrong token must not reach the log. */
function describeEnrollIssues(file: string, issues: readonly v.BaseIssue<unknown>[]): string {
  const quiet = issues.map((issue) => ({
    ...issue,
    received: issue.path?.[0]?.key === 'installToken' ? undefined : issue.received,
  }));
  return `${file}: ${describeIssues(quiet as typeof issues, '')}`;
}

/**
 * Reads the enrollment file, or null when there is none. A file that is not root's (or the
 * agent's), is readable or writable by anyone else, or is malformed is refused: logged, left in
 * place for the administrator, and not used.
 */
export async function readEnrollFile(file: string, log: Logger): Promise<EnrollFile | null> {
  try {
    return await readJsonFile(
      file,
      EnrollFileSchema,
      { forbiddenModeBits: 0o077, checkDirectory: true },
      MAX_ENROLL_FILE_BYTES,
    );
  } catch (error) {
    if (error instanceof JsonFileError && error.problem === 'missing') return null;
    const reason =
      error instanceof JsonFileError && error.problem === 'invalid'
        ? describeEnrollIssues(file, error.issues)
        : (error as Error).message;
    log.error('enroll-file.refused', {
      file,
      reason,
      next: `fix or replace ${file} (root-owned, chmod 600), then restart the agent`,
    });
    return null;
  }
}

/** Deletes the enrollment file durably (unlink, then fsync its directory). */
export async function removeEnrollFile(file: string, log: Logger, why: string): Promise<void> {
  try {
    await fs.unlink(file);
    await fsyncDirectory(path.dirname(file));
    log.info('enroll-file.removed', { file, why });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    log.error('enroll-file.not-removed', {
      file,
      error: error as Error,
      next: `delete ${file} by hand: it holds an install token`,
    });
  }
}
