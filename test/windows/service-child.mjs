// What the service wrapper runs in test/windows/service-wrapper.integration.test.ts, in place of the
// agent: it notes each start, exits with the code a file in its directory asks for (crash → 3,
// refuse → 78, done → 0), and stops when its standard input ends (the wrapper's stop).
//   node.exe service-child.mjs DIR
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const note = (line) => appendFileSync(join(dir, 'child.log'), `${line}\n`);
note(`started ${process.pid}`);
const codes = { crash: 3, refuse: 78, done: 0 };
setInterval(() => {
  for (const [file, code] of Object.entries(codes)) {
    if (existsSync(join(dir, file))) {
      note(`exiting ${code}`);
      process.exit(code);
    }
  }
}, 100);
process.stdin.on('end', () => {
  note('stopped by the wrapper');
  process.exit(0);
});
process.stdin.resume();
