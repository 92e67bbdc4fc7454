/** Turns schema issues into sentences that name the key, the rule and what was found. */
import type * as v from 'valibot';

export function describeIssue(issue: v.BaseIssue<unknown>, prefix: string): string {
  const keys = (issue.path ?? []).map((item) => String(item.key));
  const where = [prefix, ...keys].filter(Boolean).join('.');
  if (issue.type.startsWith('strict_object') && issue.expected === 'never') {
    return `${where} is not a known key (docs/configuration.md lists them)`;
  }
  const got = issue.received === undefined || issue.received === 'undefined' ? '' : ` (got ${issue.received})`;
  return `${where ? `${where} ` : ''}${issue.message}${got}`;
}

export function describeIssues(issues: readonly v.BaseIssue<unknown>[], prefix: string): string {
  return issues.map((issue) => describeIssue(issue, prefix)).join('; ');
}

/**
 * What is wrong in JSON text, on one line: V8's SyntaxError without the quoted source (which can
 * hold line breaks), and the line and column when V8 gives a position.
 */
export function describeJsonSyntaxError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/^Unexpected end of JSON input/.test(message))
    return text.trim() === '' ? 'the file is empty' : 'it ends too early';
  const position = /at position (\d+)/.exec(message);
  const what = (message.split(/, "|\s+in JSON at position|\s+at position/)[0] ?? message).replace(/\s+/g, ' ').trim();
  const lowered = what.charAt(0).toLowerCase() + what.slice(1);
  if (!position) return lowered;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${lowered} at line ${line}, column ${column}`;
}
