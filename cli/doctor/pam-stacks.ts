/**
 * Which PAM services reach pam_latchkey.so in their `auth` stack, read as libpam reads
 * /etc/pam.d (pam.conf(5)): `#` ends a line, `\` at the end continues it, `[…]` groups a control
 * or an argument with spaces, `-auth` is an auth line whose module may be missing, and
 * `@include FILE`, `auth include FILE` and `auth substack FILE` pull in another file's auth lines.
 * Pure: the files come from an injected reader.
 */

export const MODULE_NAME = 'pam_latchkey.so';
/** How deep includes are followed (login → common-auth is two files); a loop stops at the first repeat. */
export const MAX_INCLUDE_DEPTH = 8;

/** The login and lock surfaces docs/pam.md names, in the order `latchkey doctor` reports them. */
export const KNOWN_SURFACES = [
  'common-auth',
  'login',
  'gdm-password',
  'lightdm',
  'sddm',
  'sudo',
  'su',
  'polkit-1',
  'i3lock',
  'swaylock',
  'xscreensaver',
  'xsecurelock',
  'kde',
  'kscreensaver',
  'cinnamon-screensaver',
  'mate-screensaver',
  'xfce4-screensaver',
  'gnome-screensaver',
  'lxdm',
  'slim',
  'sshd',
] as const;

export type PamEntry =
  | { readonly kind: 'include'; readonly target: string; readonly line: number }
  | {
      readonly kind: 'rule';
      readonly type: string;
      readonly control: string;
      readonly module: string;
      readonly args: readonly string[];
      readonly line: number;
    };

/** Splits one logical line into words, keeping `[…]` groups (with `\]` inside) as one word. */
function words(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let word = '';
    if (text[i] === '[') {
      i++;
      while (i < text.length && text[i] !== ']') {
        if (text[i] === '\\' && text[i + 1] === ']') i++;
        word += text[i++];
      }
      i++; // the closing bracket
      out.push(`[${word}]`);
      continue;
    }
    while (i < text.length && !/\s/.test(text[i]!)) word += text[i++];
    out.push(word);
  }
  return out;
}

/** The entries of one service file, with the line each starts on. */
export function parsePamFile(text: string): PamEntry[] {
  const entries: PamEntry[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const start = index + 1;
    let logical = '';
    for (;;) {
      const raw = lines[index]!;
      const hash = raw.indexOf('#');
      const content = hash >= 0 ? raw.slice(0, hash) : raw;
      if (hash < 0 && /\\\s*$/.test(content) && index + 1 < lines.length) {
        logical += `${content.replace(/\\\s*$/, '')} `;
        index++;
        continue;
      }
      logical += content;
      break;
    }
    const [first, ...rest] = words(logical);
    if (first === undefined) continue;
    if (first === '@include') {
      if (rest[0] !== undefined) entries.push({ kind: 'include', target: rest[0], line: start });
      continue;
    }
    const [control, module, ...args] = rest;
    if (control === undefined || module === undefined) continue; // libpam logs and skips such a line
    entries.push({ kind: 'rule', type: first.toLowerCase(), control, module, args, line: start });
  }
  return entries;
}

/** `key=value` arguments as a map (a bare word maps to true); `[key=value with spaces]` too. */
export function moduleOptions(args: readonly string[]): Record<string, string | true> {
  const options: Record<string, string | true> = {};
  for (const arg of args) {
    const bare = arg.startsWith('[') && arg.endsWith(']') ? arg.slice(1, -1) : arg;
    const equals = bare.indexOf('=');
    if (equals < 0) options[bare] = true;
    else options[bare.slice(0, equals)] = bare.slice(equals + 1);
  }
  return options;
}

/** A line that names the module: in which file, the module path as written, its options. */
export interface ModuleReference {
  readonly file: string;
  readonly line: number;
  readonly control: string;
  readonly path: string;
  readonly options: Readonly<Record<string, string | true>>;
  /** The files included on the way, ending with `file` (empty when the service's own file names it). */
  readonly via: readonly string[];
}

export interface ServiceReach {
  readonly service: string;
  readonly references: readonly ModuleReference[];
  /** Files an include names that do not exist (libpam fails that service's stack). */
  readonly missingIncludes: readonly string[];
}

const isOurModule = (path: string) => path === MODULE_NAME || path.endsWith(`/${MODULE_NAME}`);

/** What `service`'s auth stack reaches, following includes; `read` returns a file's text or null. */
export function reachOf(service: string, read: (file: string) => string | null): ServiceReach {
  const references: ModuleReference[] = [];
  const missingIncludes: string[] = [];
  const visit = (file: string, via: string[], seen: Set<string>): void => {
    const text = read(file);
    if (text === null) {
      if (via.length > 0) missingIncludes.push(file);
      return;
    }
    for (const entry of parsePamFile(text)) {
      const isAuth = entry.kind === 'rule' && entry.type.replace(/^-/, '') === 'auth';
      const target =
        entry.kind === 'include'
          ? entry.target
          : isAuth && (entry.control === 'include' || entry.control === 'substack')
            ? entry.module
            : null;
      if (target !== null) {
        if (!seen.has(target) && via.length < MAX_INCLUDE_DEPTH)
          visit(target, [...via, target], new Set([...seen, target]));
        continue;
      }
      if (entry.kind === 'rule' && isAuth && isOurModule(entry.module)) {
        references.push({
          file,
          line: entry.line,
          control: entry.control,
          path: entry.module,
          options: moduleOptions(entry.args),
          via,
        });
      }
    }
  };
  visit(service, [], new Set([service]));
  return { service, references, missingIncludes };
}

/** Where libpam loads a module named in a stack line from: an absolute path as written, else the module directory. */
export function modulePath(written: string, moduleDirectory: string): string {
  return written.startsWith('/') ? written : `${moduleDirectory.replace(/\/+$/, '')}/${written}`;
}
