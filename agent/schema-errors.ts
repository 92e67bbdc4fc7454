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
