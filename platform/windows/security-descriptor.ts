/**
 * Pure reading of Windows security identifiers and security descriptors in their string forms
 * (SDDL, as ConvertSecurityDescriptorToStringSecurityDescriptorW writes them), and the file-access
 * rule of platform/secure-path.ts said over them: the owner must be trusted, and no access entry
 * may give an untrusted account what the rule forbids. Anything not understood fails closed.
 * No I/O here: unit-tested on Linux (test/platform/windows-security-descriptor.test.ts).
 */

export const SYSTEM_SID = 'S-1-5-18';
export const ADMINISTRATORS_SID = 'S-1-5-32-544';

/** S-1-<authority>-<sub-authority>…, at most 15 sub-authorities (a SID's limit). */
const SID = /^S-1-(\d{1,13})(-\d{1,10}){1,15}$/;

export function isSid(text: string): boolean {
  if (!SID.test(text)) return false;
  return text
    .split('-')
    .slice(3)
    .every((part) => Number(part) <= 0xffff_ffff);
}

/** SDDL's two-letter names for well-known SIDs (the ones a file's descriptor commonly holds). */
const SID_ALIASES: Record<string, string> = {
  SY: SYSTEM_SID,
  BA: ADMINISTRATORS_SID,
  BU: 'S-1-5-32-545',
  BG: 'S-1-5-32-546',
  PU: 'S-1-5-32-547',
  WD: 'S-1-1-0',
  AU: 'S-1-5-11',
  IU: 'S-1-5-4',
  NU: 'S-1-5-2',
  SU: 'S-1-5-6',
  AN: 'S-1-5-7',
  CO: 'S-1-3-0',
  CG: 'S-1-3-1',
  OW: 'S-1-3-4',
  LS: 'S-1-5-19',
  NS: 'S-1-5-20',
  AC: 'S-1-15-2-1',
  RC: 'S-1-5-12',
  NO: 'S-1-5-32-556',
  RD: 'S-1-5-32-555',
  IS: 'S-1-5-32-568',
};

/** A SID from SDDL: `S-1-…` or a two-letter alias; null when it is neither (not trusted, then). */
export function sidFromSddl(text: string): string | null {
  if (isSid(text)) return text;
  return SID_ALIASES[text] ?? null;
}

const RIGHT_ALIASES: Record<string, number> = {
  GA: 0x1000_0000,
  GR: 0x8000_0000,
  GW: 0x4000_0000,
  GX: 0x2000_0000,
  FA: 0x001f_01ff,
  FR: 0x0012_0089,
  FW: 0x0012_0116,
  FX: 0x0012_00a0,
  SD: 0x0001_0000,
  RC: 0x0002_0000,
  WD: 0x0004_0000,
  WO: 0x0008_0000,
  RP: 0x10,
  WP: 0x20,
  CC: 0x1,
  DC: 0x2,
  LC: 0x4,
  SW: 0x8,
  LO: 0x80,
  DT: 0x40,
  CR: 0x100,
  KA: 0x000f_003f,
  KR: 0x0002_0019,
  KW: 0x0002_0006,
  KX: 0x0002_0019,
};

/**
 * What lets an account change a file or a directory's entries: write data / add a file, append /
 * add a subdirectory, write extended attributes, delete a child, write attributes, delete,
 * change the DACL, take ownership, and the generic write and all rights.
 */
const WRITE_RIGHTS =
  0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x0001_0000 | 0x0004_0000 | 0x0008_0000 | 0x4000_0000 | 0x1000_0000;

export interface AccessEntry {
  readonly type: 'allow' | 'deny';
  /** Applies to children only (inherit-only): not to the object itself. */
  readonly inheritOnly: boolean;
  readonly rights: number;
  /** null: an SDDL alias this reader does not know. */
  readonly sid: string | null;
  readonly text: string;
}

export interface SecurityDescriptor {
  readonly owner: string | null;
  /** null: no DACL at all, so everyone has every right. */
  readonly dacl: readonly AccessEntry[] | null;
  readonly protectedDacl: boolean;
}

export class SddlError extends Error {}

/** Parses `O:…D:…` (owner and DACL; other parts are allowed and skipped). */
export function parseSecurityDescriptor(sddl: string): SecurityDescriptor {
  const parts = new Map<string, string>();
  let depth = 0;
  let key: string | null = null;
  let start = 0;
  for (let i = 0; i <= sddl.length; i++) {
    const c = sddl[i];
    const next = sddl[i + 1];
    const atSection = depth === 0 && (i === sddl.length || (c !== undefined && 'OGDS'.includes(c) && next === ':'));
    if (atSection) {
      if (key !== null) {
        if (parts.has(key)) throw new SddlError(`${key}: appears twice in ${JSON.stringify(sddl)}`);
        parts.set(key, sddl.slice(start, i));
      } else if (i !== 0) throw new SddlError(`not a security descriptor: ${JSON.stringify(sddl)}`);
      if (i === sddl.length) break;
      key = c!;
      start = i + 2;
      i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) throw new SddlError(`unbalanced ) in ${JSON.stringify(sddl)}`);
  }
  if (depth !== 0 || key === null) throw new SddlError(`not a security descriptor: ${JSON.stringify(sddl)}`);
  const ownerText = parts.get('O');
  const daclText = parts.get('D');
  const owner = ownerText === undefined ? null : sidFromSddl(ownerText);
  if (daclText === undefined) return { owner, dacl: null, protectedDacl: false };
  const flagsEnd = daclText.indexOf('(') === -1 ? daclText.length : daclText.indexOf('(');
  const flags = daclText.slice(0, flagsEnd);
  if (/NO_ACCESS_CONTROL/.test(flags)) return { owner, dacl: null, protectedDacl: flags.includes('P') };
  if (!/^(P|AI|AR)*$/.test(flags)) throw new SddlError(`unknown DACL flags ${JSON.stringify(flags)}`);
  const entries = daclText.slice(flagsEnd);
  if (!/^(\([^()]*\))*$/.test(entries)) throw new SddlError(`not a list of access entries: ${JSON.stringify(entries)}`);
  const dacl = [...entries.matchAll(/\(([^()]*)\)/g)].map((m) => parseEntry(m[1]!));
  return { owner, dacl, protectedDacl: flags.includes('P') };
}

function parseEntry(text: string): AccessEntry {
  const fields = text.split(';');
  if (fields.length < 6) throw new SddlError(`an access entry needs six fields: (${text})`);
  const [type, flags, rights, , , sid] = fields as [string, string, string, string, string, string];
  let kind: AccessEntry['type'];
  if (type === 'A' || type === 'OA') kind = 'allow';
  else if (type === 'D' || type === 'OD') kind = 'deny';
  else if (type === 'AU' || type === 'AL' || type === 'ML' || type === 'SP')
    kind = 'deny'; // audit/label: grants nothing
  else throw new SddlError(`unknown access entry type ${JSON.stringify(type)} in (${text})`);
  return { type: kind, inheritOnly: /IO/.test(flags), rights: parseRights(rights, text), sid: sidFromSddl(sid), text };
}

function parseRights(text: string, entry: string): number {
  if (/^0x[0-9a-fA-F]{1,8}$/.test(text)) return Number.parseInt(text, 16);
  if (/^\d{1,10}$/.test(text)) return Number(text);
  if (text.length % 2 !== 0) throw new SddlError(`unknown rights ${JSON.stringify(text)} in (${entry})`);
  let rights = 0;
  for (let i = 0; i < text.length; i += 2) {
    const right = RIGHT_ALIASES[text.slice(i, i + 2)];
    if (right === undefined) throw new SddlError(`unknown right ${JSON.stringify(text.slice(i, i + 2))} in (${entry})`);
    rights = (rights | right) >>> 0;
  }
  return rights;
}

/**
 * The access rule (platform/secure-path.ts `PathRule`) over a descriptor: the owner is one of
 * `owners`; an allow entry for anyone else gives no write right (0o022) or nothing at all
 * (0o077, secrets). Returns what is wrong, or null. Deny entries only take rights away, so they
 * never make a descriptor unsafe.
 */
export function accessProblem(
  descriptor: SecurityDescriptor,
  owners: readonly string[],
  forbiddenModeBits: number,
): string | null {
  return rightsProblem(descriptor, owners, (forbiddenModeBits & 0o044) !== 0 ? 0xffff_ffff : WRITE_RIGHTS);
}

/**
 * For a directory above the state directory: others may add entries (C:\ lets users make
 * folders) but must not remove or rename what is there, nor change the directory's DACL or owner.
 */
export const REPLACE_RIGHTS = 0x40 | 0x0001_0000 | 0x0004_0000 | 0x0008_0000 | 0x1000_0000;

export function rightsProblem(
  descriptor: SecurityDescriptor,
  owners: readonly string[],
  forbidden: number,
): string | null {
  if (descriptor.owner === null || !owners.includes(descriptor.owner))
    return `it is owned by ${descriptor.owner ?? 'an unknown account'}; it must be owned by ${owners.join(' or ')}`;
  if (descriptor.dacl === null) return 'it has no access list, so everyone may change it';
  for (const entry of descriptor.dacl) {
    if (entry.type !== 'allow' || entry.inheritOnly) continue;
    if (entry.sid !== null && owners.includes(entry.sid)) continue;
    if ((entry.rights & forbidden) >>> 0 !== 0)
      return `its access list lets ${entry.sid ?? 'an unknown account'} ${forbidden === 0xffff_ffff ? 'in' : 'change it'} (${entry.text})`;
  }
  return null;
}

export interface AccountName {
  /** null for a bare name: the local computer or a domain the OS finds. */
  readonly domain: string | null;
  readonly name: string;
}

/**
 * A Windows account as a person types it: `DOMAIN\name`, `.\name` (this computer), `name`, or
 * a UPN `name@domain` (kept whole, LookupAccountName resolves it). Throws RangeError otherwise.
 */
export function parseAccountName(text: string): AccountName {
  if (text.length === 0 || text.length > 256) throw new RangeError('an account name is 1–256 characters');
  // The characters Windows never allows in a user or domain name (and control characters).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/["/[\]:;|=,+*?<>\u0000-\u001f]/.test(text))
    throw new RangeError(`${JSON.stringify(text)} is not a Windows account name`);
  const parts = text.split('\\');
  if (parts.length > 2) throw new RangeError(`${JSON.stringify(text)} has more than one backslash`);
  if (parts.length === 1) return { domain: null, name: text };
  const [domain, name] = parts as [string, string];
  if (domain === '' || name === '') throw new RangeError(`${JSON.stringify(text)} needs a name on each side of \\`);
  return { domain, name };
}
