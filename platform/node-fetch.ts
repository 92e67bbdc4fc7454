/**
 * A FetchLike over node:http and node:https for every command that talks to a Control Center (the agent, the phone, admin). The `latchkey` binary runs under
 * `--no-expose-wasm` (bin/latchkey.js), and Node's global fetch (undici) needs WebAssembly for
 * its HTTP parser, so inside the CLI it fails before sending anything. Bounded like ApiClient:
 * the answer is cut off past MAX_ANSWER_BYTES.
 */
import http from 'node:http';
import https from 'node:https';
import type { FetchLike } from './api-client.js';
import { MAX_BODY_BYTES } from '../protocol/online/http-bodies.js';

const MAX_ANSWER_BYTES = MAX_BODY_BYTES * 4 + 1;

export const nodeFetch: FetchLike = (url, init) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      return reject(new TypeError(`unsupported URL scheme ${target.protocol}`));
    if (init.signal?.aborted) return reject(init.signal.reason);
    const transport = target.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = {
      ...init.headers,
      ...(init.body ? { 'content-length': String(init.body.length) } : {}),
    };
    const request = transport.request(target, { method: init.method, headers, signal: init.signal }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) return response.destroy(new RangeError('the answer is too large'));
        chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: response.statusCode ?? 0,
          arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
        });
      });
    });
    request.on('error', reject);
    request.end(init.body ? Buffer.from(init.body) : undefined);
  });
