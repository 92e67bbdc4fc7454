import type { Command } from 'commander';
import { wipe } from '../../protocol/bytes.js';
import { parseEnrollmentUri } from '../../protocol/enrollment-uri.js';
import { ProtocolError } from '../../protocol/errors.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../protocol/offline-pin.js';
import { CliError, EXIT } from '../../platform/exit-codes.js';
import { describeFileError } from '../../platform/file-errors.js';
import { InsecurePathError } from '../../platform/path-errors.js';
import { readCheckedFile } from '../../platform/secure-path.js';
import { integerOption } from '../options.js';
import { readRequiredSecret } from '../../platform/read-secret.js';

const MAX_URI_FILE_BYTES = 4096;

/** The first line of a file that holds a seed: refused when others could read or replace it. */
async function readUriFile(file: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await readCheckedFile(file, { forbiddenModeBits: 0o077 }, MAX_URI_FILE_BYTES);
  } catch (error) {
    if (error instanceof InsecurePathError) throw new CliError(`--uri-file: ${error.message}`, EXIT.usage);
    if (error instanceof RangeError)
      throw new CliError(`--uri-file ${file} is larger than an import URI can be`, EXIT.usage);
    throw new CliError(`--uri-file ${file}: ${describeFileError(error, file)}`, EXIT.usage);
  }
  const end = data.indexOf(0x0a);
  const line = new Uint8Array(end < 0 ? data : data.subarray(0, end));
  data.fill(0);
  return line;
}

export function registerPins(program: Command): void {
  program
    .command('pins')
    .description('print the offline PINs a phone would show for an import URI (for engineers and tests)')
    .option(
      '--uri <uri>',
      'the import URI (visible to other local users in the process list; prefer stdin or --uri-file)',
    )
    .option(
      '--uri-file <file>',
      'read the import URI from this file (as `latchkey enroll --uri-file` writes it; others must not be able to read it)',
    )
    .option('--from <n>', "first counter (the phone starts at the URI's counter)", integerOption('--from', 0, 2 ** 48))
    .option('--count <k>', 'how many PINs (default: the rest of the pool)', integerOption('--count', 1, 100))
    .action(async (options: { uri?: string; uriFile?: string; from?: number; count?: number }) => {
      if (options.uri !== undefined && options.uriFile !== undefined)
        throw new CliError('give --uri or --uri-file, not both', EXIT.usage);
      const uriBytes =
        options.uri !== undefined
          ? new Uint8Array(Buffer.from(options.uri))
          : options.uriFile !== undefined
            ? await readUriFile(options.uriFile)
            : await readRequiredSecret(
                'Import URI: ',
                'import URI',
                'pipe it in (latchkey enroll prints it), or pass --uri-file',
              );
      let seed: Uint8Array | undefined;
      try {
        const parsed = parseEnrollmentUri(Buffer.from(uriBytes).toString('utf8'));
        seed = parsed.seed;
        const from = options.from ?? parsed.counter;
        const end = parsed.counter + parsed.count;
        const count = options.count ?? Math.max(0, end - from);
        for (let c = from; c < from + count; c++) {
          const pin = deriveOfflinePin(seed, c, parsed.format);
          process.stdout.write(`${formatPinForDisplay(pin, parsed.format.charset)}\n`);
          wipe(pin);
        }
      } catch (error) {
        if (error instanceof ProtocolError) throw new CliError(`not an import URI: ${error.message}`, EXIT.usage);
        throw error;
      } finally {
        wipe(uriBytes, seed);
      }
    });
}
