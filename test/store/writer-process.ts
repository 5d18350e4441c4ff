/**
 * Child process for concurrency.test.ts: a second writer on the same database file, as the CLI
 * is to the daemon. Alternates route `orders/created` between targets {A,B} and {C,D,E} with
 * setRoute until stdin closes, then prints how many writes it made. Prints "ready" after the
 * first write so the reader knows the route exists.
 * Usage: node --import tsx writer-process.ts <db file>
 */
import { Store } from '../../src/store/index.js';
import { PARAMS, weighted, ZONE } from './helpers.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: writer-process.ts <db file>');

const store = Store.open(file, { create: false });
const specs = [weighted('A', 'B'), weighted('C', 'D', 'E')];
let writes = 0;
let stop = false;
process.stdin.on('end', () => {
  stop = true;
});
process.stdin.resume();

function burst(): void {
  // Write in bursts and yield to the event loop between them, so 'end' on stdin is seen.
  for (let i = 0; i < 20; i++) store.setRoute(ZONE, 'orders/created', specs[writes++ % 2]!, PARAMS);
  if (writes === 20) process.stdout.write('ready\n');
  if (stop) {
    store.close();
    process.stdout.write(`writes ${writes}\n`);
  } else {
    setImmediate(burst);
  }
}
burst();
