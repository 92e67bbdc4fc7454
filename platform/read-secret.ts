/**
 * Reads a PIN or password as bytes: from a terminal with echo off, or one line from a pipe.
 * The caller wipes the result.
 */
import { CliError, EXIT } from './exit-codes.js';

export const MAX_SECRET_INPUT_BYTES = 1024;

export async function readSecret(
  prompt: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<Uint8Array> {
  if (input.isTTY) return readFromTerminal(prompt, input, output);
  return readLine(input);
}

/**
 * readSecret for a value the command cannot go on without: nothing on a standard input that is
 * not a terminal (`</dev/null`, an empty pipe) is a usage error naming where else it can come from.
 */
export async function readRequiredSecret(
  prompt: string,
  what: string,
  otherwise: string,
  input: NodeJS.ReadStream = process.stdin,
): Promise<Uint8Array> {
  const secret = await readSecret(prompt, input);
  if (secret.length === 0 && !input.isTTY)
    throw new CliError(`no ${what} on standard input, and no terminal to ask on: ${otherwise}`, EXIT.usage);
  return secret;
}

async function readLine(input: NodeJS.ReadableStream): Promise<Uint8Array> {
  const buffer = Buffer.alloc(MAX_SECRET_INPUT_BYTES + 1);
  let length = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      for (const byte of chunk) {
        if (byte === 0x0a) return finish();
        if (length > MAX_SECRET_INPUT_BYTES)
          throw new RangeError(`input is longer than ${MAX_SECRET_INPUT_BYTES} bytes`);
        buffer[length++] = byte;
      }
      chunk.fill(0);
    }
    return finish();
  } finally {
    buffer.fill(0);
  }
  function finish(): Uint8Array {
    if (length > 0 && buffer[length - 1] === 0x0d) length--;
    return new Uint8Array(buffer.subarray(0, length));
  }
}

function readFromTerminal(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.alloc(MAX_SECRET_INPUT_BYTES);
    let length = 0;
    output.write(prompt);
    input.setRawMode(true);
    input.resume();
    const done = (error: Error | null) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      const result = new Uint8Array(buffer.subarray(0, length));
      buffer.fill(0);
      if (error) reject(error);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      for (const byte of chunk) {
        if (byte === 0x03) return done(new Error('cancelled'));
        if (byte === 0x0d || byte === 0x0a || byte === 0x04) return done(null);
        if (byte === 0x7f || byte === 0x08) length = Math.max(0, length - 1);
        else if (length < MAX_SECRET_INPUT_BYTES) buffer[length++] = byte;
      }
      chunk.fill(0);
    };
    input.on('data', onData);
  });
}
