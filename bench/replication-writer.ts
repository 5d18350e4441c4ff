/**
 * A process that runs `psarn` commands through the CLI's own main() (the code path of
 * `psarn route set`), one per stdin line (a JSON argv), and answers each with one JSON line:
 * the exit status, the CLI's stdout, and `at`, the wall clock (performance.timeOrigin +
 * performance.now(), ms, comparable across processes of one machine) when main() returned, that
 * is just after the transaction committed and the store closed. bench/replication.ts times a
 * change from that moment: the exit of a whole CLI process comes a varying few hundred ms after
 * its commit (node's teardown), which a secondary can beat.
 */
import { createInterface } from 'node:readline';
import { main } from '../src/cli/main.js';

export interface WriterReply {
  code: number;
  stdout: string;
  stderr: string;
  at: number;
}

async function serve(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const argv = JSON.parse(line) as string[];
    let stdout = '';
    let stderr = '';
    const code = await main(argv, {
      stdout: {
        write: (s: string) => {
          stdout += s;
        },
      },
      stderr: {
        write: (s: string) => {
          stderr += s;
        },
      },
      env: process.env,
      cwd: process.cwd(),
    });
    const at = performance.timeOrigin + performance.now();
    const reply: WriterReply = { code, stdout, stderr, at };
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
}

serve().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`replication-writer: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
