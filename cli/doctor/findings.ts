/**
 * What `latchkey doctor` found on this machine (cli/doctor/gather.ts reads it), before any
 * judgement: the shape checks.ts turns into ✓ and ✗ lines. Plain data, no I/O.
 */
import type { ServiceReach } from './pam-stacks.js';

/** docs/ipc.md, status detail (the parts doctor reads; later fields are optional). */
export interface StatusDetail {
  readonly user: string;
  readonly offlineMode: boolean;
  readonly pools: readonly {
    authenticatorId: string;
    remaining: number;
    pinCount: number;
    expiresAt: string;
    expired: boolean;
    pending?: boolean;
  }[];
  readonly failures: number;
  readonly locked: boolean;
  readonly retryAfter: number | null;
  readonly disabled: boolean;
  readonly blePhones?: readonly { deviceId: string; name: string; pairedAt: string }[];
  readonly policy?:
    | { source: 'control-center'; version: number; issuedAt: string }
    | { source: 'config-file'; file: string }
    | { source: 'defaults' };
  readonly controlCenter?: { url: string; online: boolean } | null;
  readonly keystore?: { backend: 'file' | 'os'; ready: boolean };
  readonly ble?: { enabled: boolean; transport: string };
}

/** The agent's status reply for the user, as the PAM module would see it (plus the CLI's detail). */
export interface StatusAnswer {
  readonly status: string;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  readonly offlineMode: boolean;
  readonly usable: boolean;
  readonly locked: boolean;
  readonly retryAfter?: number | undefined;
  readonly online: boolean;
  readonly ble: boolean;
  readonly detail: StatusDetail | null;
}

export type AgentFinding =
  | { readonly reachable: false; readonly problem: string }
  | {
      readonly reachable: true;
      /** The listener's uid from SO_PEERCRED, or null when it could not be read. */
      readonly listenerUid: number | null;
      readonly answer: StatusAnswer | null;
      /** Why there is no answer (a refusal, a timeout), when there is none. */
      readonly problem?: string;
    };

export interface ModuleFile {
  /** Where libpam loads it from. */
  readonly path: string;
  readonly state: 'ok' | 'missing' | 'not-a-file' | 'insecure';
  readonly problem?: string;
}

export interface PamFinding {
  readonly configDirectory: string;
  readonly configDirectoryExists: boolean;
  readonly moduleDirectory: string;
  /** Every service file whose auth stack reaches the module, or that is a known surface. */
  readonly services: readonly ServiceReach[];
  /** Each module file a stack names (or the default one when none does). */
  readonly moduleFiles: readonly ModuleFile[];
}

export interface DoctorFindings {
  readonly user: string;
  /** The user exists in the passwd database (getpwnam). */
  readonly userExists: boolean;
  readonly socket: string;
  /** The uids the stack lines accept as the agent's (agent_uid=, default 0). */
  readonly agentUids: readonly number[];
  readonly agent: AgentFinding;
  readonly pam: PamFinding;
  readonly syslog: { readonly path: string; readonly present: boolean };
  /** Doctor's own request to the Control Center the agent is enrolled with (the agent may not have heard from it lately). */
  readonly controlCenterProbe:
    | { readonly answered: true }
    | { readonly answered: false; readonly problem: string }
    | null;
  /** The Bluetooth adapter the agent is configured with, when Bluetooth unlock is on. */
  readonly bleAdapter: { readonly transport: string; readonly problem: string | null } | null;
  /** Doctor runs as root (it may ask about any user). */
  readonly asRoot: boolean;
  /** The time doctor ran (ms), for ages. */
  readonly now: number;
}
