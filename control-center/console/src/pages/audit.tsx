/**
 * Audit (docs/console.md "Pages"): unlocks as the workstations report them (offline ones when
 * the workstation is back online), filtered by user, workstation, time and kind, with CSV export
 * (eventsToCsv, the same as `latchkey admin events --csv`); and the Control Center's own log.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { EVENT_TYPES, UNLOCK_KINDS } from '../../../admin-api.js';
import { eventsToCsv, type AuditEntryView, type EventView, type EventsFilter } from '../../../admin-client.js';
import type { WorkstationView } from '../../../admin-client.js';
import { admin } from '../api.js';
import { when } from '../format.js';
import { Page, StatusLine, useApiCall, WorkstationOptions, DataTable, Field } from '../ui.js';

const PAGE_SIZE = 100;
const EXPORT_LIMIT = 1000;
const KINDS: Record<string, { label: string; types: readonly string[] }> = {
  unlocks: { label: 'All unlocks', types: Object.values(UNLOCK_KINDS).flat() },
  online: { label: 'Online (phone approval)', types: UNLOCK_KINDS.online },
  offline: { label: 'Offline PIN', types: UNLOCK_KINDS.offline },
  bluetooth: { label: 'Bluetooth', types: UNLOCK_KINDS.bluetooth },
  recovery: { label: 'Recovery PIN', types: UNLOCK_KINDS.recovery },
  all: { label: 'Every event', types: EVENT_TYPES },
};
const KIND_NAMES: Record<string, string> = {
  'online-auth': 'online',
  verify: 'offline PIN',
  'ble-auth': 'Bluetooth',
  'recovery-pin': 'recovery PIN',
  'credential-capture': 'Windows password saved',
  'credential-refused': 'saved Windows password refused',
};

interface Filters {
  user: string;
  workstationId: string;
  from: string;
  to: string;
  kind: string;
}

function filterOf(f: Filters): Omit<EventsFilter, 'limit'> {
  const time = (value: string) => (value === '' ? undefined : new Date(value).getTime());
  return {
    user: f.user.trim() || undefined,
    workstationId: f.workstationId || undefined,
    since: time(f.from),
    until: time(f.to),
    types: KINDS[f.kind]!.types,
  };
}

export function AuditPage() {
  const { status, setStatus, run } = useApiCall();
  const [workstations, setWorkstations] = useState<WorkstationView[]>([]);
  const [filters, setFilters] = useState<Filters>({ user: '', workstationId: '', from: '', to: '', kind: 'unlocks' });
  const [events, setEvents] = useState<{ items: EventView[]; next: number | null } | null>(null);
  const [log, setLog] = useState<{ items: AuditEntryView[]; next: number | null } | null>(null);

  const search = useCallback(
    async (f: Filters, before?: number) => {
      const page = await run(() => admin.events({ ...filterOf(f), before, limit: PAGE_SIZE }));
      if (page)
        setEvents((old) => ({
          items: before === undefined ? page.events : [...(old?.items ?? []), ...page.events],
          next: page.next,
        }));
    },
    [run],
  );
  const loadLog = useCallback(
    async (before?: number) => {
      const page = await run(() => admin.audit({ limit: PAGE_SIZE, before }));
      if (page)
        setLog((old) => ({
          items: before === undefined ? page.entries : [...(old?.items ?? []), ...page.entries],
          next: page.next,
        }));
    },
    [run],
  );
  useEffect(() => {
    void run(() => admin.workstations({ limit: 1000 })).then((list) => list && setWorkstations(list.workstations));
    void search(filters);
    void loadLog();
    // Once, when the page opens: later searches run from the form.
  }, []);

  const names = new Map(workstations.map((w) => [w.workstationId, w.name]));
  const set = (key: keyof Filters) => (e: Event) =>
    setFilters({ ...filters, [key]: (e.currentTarget as HTMLInputElement).value });
  const apply = (e: Event) => {
    e.preventDefault();
    setStatus(null);
    void search(filters);
  };
  const exportCsv = async () => {
    const page = await run(() => admin.events({ ...filterOf(filters), limit: EXPORT_LIMIT }));
    if (!page) return;
    const url = URL.createObjectURL(new Blob([eventsToCsv(page.events)], { type: 'text/csv' }));
    const link = Object.assign(document.createElement('a'), {
      href: url,
      download: `latchkey-unlocks-${new Date().toISOString().slice(0, 10)}.csv`,
    });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setStatus({
      kind: 'ok',
      text: `Exported ${page.events.length} event${page.events.length === 1 ? '' : 's'}${page.next !== null ? ` (the newest ${EXPORT_LIMIT}; narrow the filter for older ones)` : ''}.`,
    });
  };

  return (
    <Page title="Audit" id="audit">
      <h3>Unlocks at workstations</h3>
      <p>
        As the workstations report them: online sign-ins within seconds, offline ones when the workstation is next
        online.
      </p>
      <form onSubmit={apply} noValidate class="inline-form filters" aria-label="Filter unlocks">
        <Field for="filter-user" label="User">
          <input id="filter-user" autocomplete="off" value={filters.user} onInput={set('user')} />
        </Field>
        <Field for="filter-workstation" label="Workstation">
          <select id="filter-workstation" value={filters.workstationId} onChange={set('workstationId')}>
            <option value="">All workstations</option>
            <WorkstationOptions workstations={workstations} />
          </select>
        </Field>
        <Field for="filter-from" label="From">
          <input id="filter-from" type="datetime-local" value={filters.from} onInput={set('from')} />
        </Field>
        <Field for="filter-to" label="To">
          <input id="filter-to" type="datetime-local" value={filters.to} onInput={set('to')} />
        </Field>
        <Field for="filter-kind" label="Kind">
          <select id="filter-kind" value={filters.kind} onChange={set('kind')}>
            {Object.entries(KINDS).map(([key, kind]) => (
              <option key={key} value={key}>
                {kind.label}
              </option>
            ))}
          </select>
        </Field>
        <div class="actions">
          <button type="submit">Show</button>
          <button type="button" class="secondary" onClick={exportCsv}>
            Export CSV
          </button>
        </div>
      </form>
      <StatusLine status={status} />
      {events === null ? (
        <p>Loading…</p>
      ) : events.items.length === 0 ? (
        <p>No unlocks match.</p>
      ) : (
        <DataTable label="Unlocks" columns={['Time', 'Workstation', 'User', 'Kind', 'Result', 'Reported']}>
          {events.items.map((e) => (
            <tr key={e.id}>
              <td>{when(e.time)}</td>
              <td>{names.get(e.workstationId) ?? e.workstationId}</td>
              <td>{e.user}</td>
              <td>{KIND_NAMES[e.type] ?? e.type}</td>
              <td>
                {e.result}
                {e.reason ? ` (${e.reason})` : ''}
              </td>
              <td>{when(e.receivedAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {events?.next != null && (
        <button type="button" class="secondary" onClick={() => search(filters, events.next!)}>
          Show older unlocks
        </button>
      )}

      <h3>Control Center log</h3>
      <p>
        Who changed what: admin tokens as <code>admin:at_…</code>, console sessions as <code>admin:at_…/cs_…</code>.
      </p>
      {log === null ? (
        <p>Loading…</p>
      ) : (
        <DataTable label="Control Center log" columns={['Time', 'Who', 'Action', 'Target', 'Result']}>
          {log.items.map((e) => (
            <tr key={e.id}>
              <td>{when(e.time)}</td>
              <td class="id">{e.actor}</td>
              <td>{e.action}</td>
              <td class="id">{e.target ?? '—'}</td>
              <td>{e.result}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {log?.next != null && (
        <button type="button" class="secondary" onClick={() => loadLog(log.next!)}>
          Show older log entries
        </button>
      )}
    </Page>
  );
}
