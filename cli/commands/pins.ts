import type { Command } from 'commander';
import { wipe } from '../../protocol/bytes.js';
import { parseEnrollmentUri } from '../../protocol/enrollment-uri.js';
import { ProtocolError } from '../../protocol/errors.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../protocol/offline-pin.js';
import { CliError, EXIT } from '../../platform/exit-codes.js';
import { integerOption } from '../options.js';
import { readRequiredSecret } from '../../platform/read-secret.js';

export function registerPins(program: Command): void {
  program
    .command('pins')
    .description('print the offline PINs a phone would show for an import URI (for engineers and tests)')
    .option('--uri <uri>', 'the import URI (visible to other local users in the process list; prefer stdin)')
    .option('--from <n>', "first counter (the phone starts at the URI's counter)", integerOption('--from', 0, 2 ** 48))
    .option('--count <k>', 'how many PINs (default: the rest of the pool)', integerOption('--count', 1, 100))
    .action(async (options: { uri?: string; from?: number; count?: number }) => {
      const uriBytes =
        options.uri !== undefined
          ? new Uint8Array(Buffer.from(options.uri))
          : await readRequiredSecret(
              'Import URI: ',
              'import URI',
              'pipe it in (latchkey enroll prints it), or pass --uri',
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
