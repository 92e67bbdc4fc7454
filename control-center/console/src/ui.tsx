/** Pieces every page uses: the page frame, the status line, scrollable tables, and calling the API. */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { isSignedOut, messageOf } from './api.js';

/** Lets a page send the person back to the sign-in page, saying why. */
export const SessionContext = createContext<{ signedOut(message: string): void }>({ signedOut: () => undefined });

export type Status = { kind: 'ok' | 'error'; text: string } | null;

/** The result line of a page: polite for success, an alert for a refusal. */
export function StatusLine({ status }: { status: Status }) {
  return (
    <div class="status-area">
      <p role="status" class="status ok">
        {status?.kind === 'ok' ? status.text : ''}
      </p>
      <p role="alert" class="status error">
        {status?.kind === 'error' ? status.text : ''}
      </p>
    </div>
  );
}

/** A page: its heading takes the focus when the page opens, so a screen reader announces it. */
export function Page({ title, id, children }: { title: string; id: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section aria-labelledby={`${id}-title`} class="page">
      <h2 id={`${id}-title`} tabIndex={-1} ref={heading}>
        {title}
      </h2>
      {children}
    </section>
  );
}

/** A table that scrolls sideways on a narrow screen, reachable with the keyboard. */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/useSemanticElements lint/a11y/noNoninteractiveTabindex: a scrolling table must be reachable by keyboard (axe's scrollable-region-focusable): a focusable, named region is the pattern
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A data table in its scrolling wrap: an optional caption for screen readers, the header, and the rows. */
export function DataTable({
  label,
  caption,
  columns,
  actions = false,
  children,
}: {
  label: string;
  caption?: string;
  columns: readonly string[];
  actions?: boolean;
  children: ComponentChildren;
}) {
  return (
    <TableWrap label={label}>
      <table>
        {caption !== undefined && <caption class="visually-hidden">{caption}</caption>}
        <TableHead columns={columns} actions={actions} />
        <tbody>{children}</tbody>
      </table>
    </TableWrap>
  );
}

/** A form on one line: its fields, then the button that submits it. */
export function InlineForm({
  onSubmit,
  submit,
  children,
}: {
  onSubmit: (e: Event) => void;
  submit: string;
  children: ComponentChildren;
}) {
  return (
    <form onSubmit={onSubmit} noValidate class="inline-form">
      {children}
      <div class="actions">
        <button type="submit">{submit}</button>
      </div>
    </form>
  );
}

/** A form field: its label, then the control it names (`for` is the control's id). */
export function Field({ for: id, label, children }: { for: string; label: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
    </div>
  );
}

/** A secret shown once, in a box its heading names. */
export function SecretBox({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/useAriaPropsSupportedByRole: names the box for the console test and assistive tools that read aria-labelledby on any element; a landmark here would be one too many
    <div class="secret" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {children}
    </div>
  );
}

/** An input or select handler that passes the control's new value on. */
export const valueTo = (set: (value: string) => void) => (e: Event) =>
  set((e.currentTarget as HTMLInputElement | HTMLSelectElement).value);

/**
 * Runs one API call for a page: the status line says what failed; a 401 returns to sign-in.
 * Answers the result, or undefined when the call failed.
 */
export function useApiCall(): {
  status: Status;
  setStatus: (status: Status) => void;
  run: <T>(call: () => Promise<T>) => Promise<T | undefined>;
} {
  const { signedOut } = useContext(SessionContext);
  const [status, setStatus] = useState<Status>(null);
  const run = useCallback(
    async <T,>(call: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await call();
      } catch (error) {
        if (isSignedOut(error)) signedOut(messageOf(error));
        else setStatus({ kind: 'error', text: messageOf(error) });
        return undefined;
      }
    },
    [signedOut],
  );
  return { status, setStatus, run };
}

/** A table's header: one column header per name, and a last one, named for screen readers only, over the row's buttons. */
export function TableHead({ columns, actions = false }: { columns: readonly string[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th scope="col" key={column}>
            {column}
          </th>
        ))}
        {actions && (
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}

/** One option per workstation, named as the fleet names it. */
export function WorkstationOptions({
  workstations,
}: {
  workstations: readonly { workstationId: string; name: string }[];
}) {
  return (
    <>
      {workstations.map((w) => (
        <option key={w.workstationId} value={w.workstationId}>
          {w.name}
        </option>
      ))}
    </>
  );
}
