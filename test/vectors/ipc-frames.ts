/** test/vectors/ipc-frames.json (generate-ipc-frame-vectors.py), as the TypeScript and C codec tests read it. */
import { readFileSync } from 'node:fs';

export interface FrameCase {
  name: string;
  hex: string;
  reason?: string;
  request?: Record<string, unknown>;
  reply?: Record<string, unknown>;
}

export const ipcFrameVectors = JSON.parse(
  readFileSync(new URL('./ipc-frames.json', import.meta.url), 'utf8'),
) as Record<string, FrameCase[]>;
