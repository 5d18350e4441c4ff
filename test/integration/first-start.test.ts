/**
 * psarnd's first start (issue 9): the demo routes go only into a database psarnd creates under a
 * config that names them (the checkout's, which `npm start` reads), never into one `psarn db
 * init` made nor under the built-in defaults; and a port in use stops psarnd with one line on
 * stderr before it creates the database or loads the demo, in one process, with the native UDP
 * carrier, and with --workers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadUdpBatch } from '../../src/server/udp-batch.js';
import { Rcode, Type } from '../../src/wire/types.js';
import { entryArgs, projectRoot, type RunningDaemon, startPsarnd } from '../helpers/daemon.js';
import { query } from '../helpers/dns.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const CREATED = 'created.orders.123456789012.us-east-1.aws.psarn.internal.';
const CHECKOUT_CONFIG = join(projectRoot, 'config', 'psarnd.yaml');

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'psarn-first-start-'));
  dirs.push(dir);
  return dir;
}

const daemons: RunningDaemon[] = [];
after(async () => {
  for (const d of daemons) await d.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function started(d: Promise<RunningDaemon>): Promise<RunningDaemon> {
  const daemon = await d;
  daemons.push(daemon);
  return daemon;
}

const demoLoaded = (d: RunningDaemon) => d.logs.some((l) => l.msg === 'new database: loaded the demo routes');

describe('the demo routes on a first start', () => {
  it("`npm start` in the checkout serves them (package.json's start script, the checkout's config)", async () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: { start: string } };
    const [node, ...command] = pkg.scripts.start.split(/\s+/);
    assert.equal(node, 'node');
    const db = join(tempDir(), 'data', 'psarn.db');
    const d = await started(startPsarnd({ bare: true, cwd: projectRoot, command, db }));
    assert.ok(demoLoaded(d));
    assert.equal(d.logs.find((l) => l.msg === 'config loaded')?.config, CHECKOUT_CONFIG);
    const m = await query(d.dns, CREATED, Type.URI);
    assert.equal(m.rcode, Rcode.NOERROR);
    assert.equal(m.answer.length, 2);
  });

  it('`psarn db init` then psarnd with the checkout config: the initialised database gets nothing', async () => {
    const db = join(tempDir(), 'psarn.db');
    await run(process.execPath, [...entryArgs('cli'), 'db', 'init', '--db', db], { cwd: projectRoot });
    const d = await started(startPsarnd({ db }));
    assert.equal(demoLoaded(d), false);
    const m = await query(d.dns, CREATED, Type.URI);
    assert.equal(m.rcode, Rcode.REFUSED);
  });

  it('psarnd without a config file (installed from the package, a service unit) creates a database without them', async () => {
    const cwd = tempDir();
    const db = join(cwd, 'psarn.db');
    const d = await started(startPsarnd({ bare: true, cwd, db }));
    assert.equal(d.logs.find((l) => l.msg === 'config loaded')?.config, null);
    assert.equal(demoLoaded(d), false);
    assert.equal((await query(d.dns, CREATED, Type.URI)).rcode, Rcode.REFUSED);
  });

  it("the container's config (the Dockerfile's ENV, no config file in the image) names none", async () => {
    const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const env: Record<string, string> = {};
    for (const [, line] of final.matchAll(/^ENV\s+(.*)$/gm)) {
      for (const [, key, value] of line!.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env[key!] = value!.replace(/^"|"$/g, '');
    }
    assert.equal(env.PSARN_DB, '/data/psarn.db');
    assert.equal(env.PSARN_CONFIG, undefined);
    assert.equal(env.PSARN_DEMO_ROUTES, undefined);
    // No config file lands in the image's working directory, so psarnd reads none there.
    const workdir = /^WORKDIR\s+(\S+)/m.exec(final)?.[1];
    assert.equal(workdir, '/app');
    assert.doesNotMatch(final, /^COPY\s+(--\S+\s+)*config\b/m);
    const cwd = tempDir();
    const d = await started(startPsarnd({ bare: true, cwd, db: join(cwd, 'psarn.db'), env }));
    assert.equal(demoLoaded(d), false);
  });
});

/** A UDP socket, a TCP listener or both on 127.0.0.1, held while psarnd tries the port. */
interface Held {
  port: number;
  close(): Promise<void>;
}

async function holdUdp(): Promise<Held> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, () => resolve());
  });
  return { port: socket.address().port, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

async function holdTcp(port = 0): Promise<Held & { server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port whose TCP side is held and whose UDP side is free: psarnd's UDP bind works, its TCP bind fails. */
async function holdTcpOnly(): Promise<Held> {
  for (let i = 0; i < 20; i++) {
    const tcp = await holdTcp();
    const probe = createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.bind(tcp.port, HOST, () => resolve(true));
    });
    await new Promise<void>((resolve) => (free ? probe.close(() => resolve()) : resolve()));
    if (free) return tcp;
    await tcp.close();
  }
  throw new Error('no port with a free UDP twin in 20 tries');
}

/** Runs psarnd to its exit (bounded), with the checkout's config, which names the demo routes. */
async function failedStart(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string; dir: string }> {
  const dir = tempDir();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSARN_')));
  try {
    await run(process.execPath, [...entryArgs('server'), '--db', join(dir, 'data', 'psarn.db'), ...args], {
      cwd: projectRoot,
      env: { ...clean, PSARN_CONFIG: CHECKOUT_CONFIG, ...env },
      timeout: 30_000,
    });
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, dir };
  }
  throw new Error('psarnd started although its port was taken');
}

const native = loadUdpBatch();
const skipNative =
  !native.ok && process.env.CI !== 'true' ? `native UDP batcher not available: ${native.reason}` : false;

describe('a port in use stops psarnd before it touches the database', () => {
  const cases: {
    name: string;
    hold: () => Promise<Held>;
    args: (port: number) => string[];
    env?: Record<string, string>;
    line: (port: number) => RegExp;
    skip?: string | false;
  }[] = [
    {
      name: 'DNS UDP (node:dgram)',
      hold: holdUdp,
      args: (port) => ['--listen', `${HOST}:${port}`, '--http', `${HOST}:0`],
      env: { PSARN_UDP_IO: 'dgram' },
      line: (port) =>
        new RegExp(
          `^psarnd: cannot listen for DNS on 127\\.0\\.0\\.1:${port} \\(UDP\\): the address is already in use \\(EADDRINUSE\\); stop whatever holds it or choose another address with --listen \\(config listen\\)\\n$`,
        ),
    },
    {
      name: 'DNS UDP (the native recvmmsg carrier)',
      hold: holdUdp,
      args: (port) => ['--listen', `${HOST}:${port}`, '--http', `${HOST}:0`],
      env: { PSARN_UDP_IO: 'recvmmsg' },
      line: (port) =>
        new RegExp(
          `^psarnd: cannot listen for DNS on 127\\.0\\.0\\.1:${port} \\(UDP\\): the address is already in use \\(EADDRINUSE\\);`,
        ),
      skip: skipNative,
    },
    {
      name: 'DNS TCP, UDP free',
      hold: holdTcpOnly,
      args: (port) => ['--listen', `${HOST}:${port}`, '--http', `${HOST}:0`],
      line: (port) =>
        new RegExp(
          `^psarnd: cannot listen for DNS on 127\\.0\\.0\\.1:${port} \\(TCP\\): the address is already in use \\(EADDRINUSE\\);`,
        ),
    },
    {
      name: 'HTTP',
      hold: () => holdTcp(),
      args: (port) => ['--listen', `${HOST}:0`, '--http', `${HOST}:${port}`],
      line: (port) =>
        new RegExp(
          `^psarnd: cannot listen for HTTP on 127\\.0\\.0\\.1:${port} \\(TCP\\): the address is already in use \\(EADDRINUSE\\); stop whatever holds it or choose another address with --http \\(config http\\)\\n$`,
        ),
    },
    {
      name: 'DNS UDP with --workers 2',
      hold: holdUdp,
      args: (port) => ['--listen', `${HOST}:${port}`, '--http', `${HOST}:0`, '--workers', '2'],
      line: (port) =>
        new RegExp(
          `^psarnd: cannot listen for DNS on 127\\.0\\.0\\.1:${port} \\(UDP\\): the address is already in use \\(EADDRINUSE\\);`,
        ),
    },
    {
      name: 'DNS UDP with --workers 2 on the native carrier',
      hold: holdUdp,
      args: (port) => ['--listen', `${HOST}:${port}`, '--http', `${HOST}:0`, '--workers', '2'],
      env: { PSARN_UDP_IO: 'recvmmsg' },
      line: (port) =>
        new RegExp(
          `^psarnd: cannot listen for DNS on 127\\.0\\.0\\.1:${port} \\(UDP\\): the address is already in use \\(EADDRINUSE\\);`,
        ),
      skip: skipNative,
    },
    {
      name: 'HTTP with --workers 2',
      hold: () => holdTcp(),
      args: (port) => ['--listen', `${HOST}:0`, '--http', `${HOST}:${port}`, '--workers', '2'],
      line: (port) => new RegExp(`^psarnd: cannot listen for HTTP on 127\\.0\\.0\\.1:${port} \\(TCP\\):`),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 1, one line on stderr, no database and no demo`, { skip: c.skip ?? false }, async () => {
      const held = await c.hold();
      try {
        const { code, stdout, stderr, dir } = await failedStart(c.args(held.port), c.env);
        assert.equal(code, 1);
        assert.match(stderr, c.line(held.port));
        assert.equal(stderr.split('\n').length, 2, stderr);
        assert.doesNotMatch(stdout, /loaded the demo routes/);
        assert.equal(existsSync(join(dir, 'data')), false, 'the database folder was created');
      } finally {
        await held.close();
      }
    });
  }
});

describe('signals while psarnd is starting', () => {
  it('SIGHUP with the first log line does not end it: it starts and serves (its default action would)', async () => {
    let sent = false;
    const d = await started(
      startPsarnd({
        onLog: (_entry, proc) => {
          if (sent) return;
          sent = true;
          proc.kill('SIGHUP');
        },
      }),
    );
    assert.ok(sent);
    assert.equal((await query(d.dns, CREATED, Type.URI)).rcode, Rcode.NOERROR);
    assert.equal(await d.stop('SIGTERM'), 0);
  });

  it('SIGTERM with the first log line: it finishes starting, then drains and exits 0', async () => {
    const dir = tempDir();
    const db = join(dir, 'psarn.db');
    const entry = entryArgs('server');
    const { spawn } = await import('node:child_process');
    const proc = spawn(process.execPath, [...entry, '--db', db, '--listen', `${HOST}:0`, '--http', `${HOST}:0`], {
      cwd: projectRoot,
      env: { ...process.env, PSARN_CONFIG: CHECKOUT_CONFIG, PSARN_DEMO_ROUTES: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (out === '') proc.kill('SIGTERM');
      out += s;
    });
    const bound = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      proc.once('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(bound);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.match(out, /"msg":"psarnd stopped"/);
  });
});
