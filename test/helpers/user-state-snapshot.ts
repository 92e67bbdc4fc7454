/**
 * A user-state snapshot as the journal stores it, with only the fields every state has had
 * (docs/state-files.md "User state journal"): what the schema tests add one record to, so that
 * a state written before an optional field existed is what they read.
 */
export function snapshotWith(fields: Record<string, unknown>) {
  return {
    user: 'alice',
    generation: 1,
    wallHighWaterMs: 0,
    pools: [],
    hammering: { failures: 0, disabled: false, wrongTags: [], delay: null },
    ...fields,
  };
}
