/**
 * valibot issues as sentences for people: one per issue, naming the field, never the value that
 * was received. The Control Center answers with them (control-center/http/boundary.ts), and the
 * web console checks a form with the same schema and shows the same sentence. Pure.
 */
import type * as v from 'valibot';

function field(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  }
  return out;
}

/** One sentence per issue (at most five), naming the field; never the received value. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[], what = 'the body'): string {
  const sentences = issues.slice(0, 5).map((issue) => {
    const name = field(issue);
    if (name === '')
      return `${what} ${issue.message.startsWith('Invalid') ? `must be ${issue.expected ?? 'valid'}` : issue.message}`;
    if (issue.type === 'strict_object' && issue.expected === 'never') return `${name} is not a known field`;
    if (issue.type === 'strict_object' && issue.received === 'undefined') return `${name} is missing`;
    if (issue.kind === 'schema' && issue.message.startsWith('Invalid')) return `${name} must be ${issue.expected}`;
    if (/^(must|is|has)\b/.test(issue.message)) return `${name} ${issue.message}`;
    return `${name}: ${issue.message.replace(/ but received .*$/s, '')}`;
  });
  return `${sentences.join('; ')}.`;
}
