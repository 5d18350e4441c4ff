/**
 * The psarn-client package as a caller installs it (docs/design.md#two-packages): its tarball is
 * packed with npm and unpacked into a scratch app that has nothing else, then used from ESM,
 * CommonJS and TypeScript. The module list of each probe shows what a cold start loads: nothing
 * of the AWS SDK or prom-client at import, one SDK client per kind of target invoked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cliOn, projectRoot, type RunningDaemon, startAll, startPsarnd } from '../helpers/daemon.js';
import { relativeLinks } from '../helpers/markdown.js';
import { type FakeAws, startFakeAws } from './invokers/fake-aws.js';

const run = promisify(execFile);

const LAMBDA_ROUTE = 'arn:aws:psarn:us-east-1:123456789012:pkg/lambda';
const SQS_ROUTE = 'arn:aws:psarn:us-east-1:123456789012:pkg/queue';
const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:pkg-test';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:pkg-test';

interface Packed {
  filename: string;
  files: { path: string }[];
}

/** An app directory with psarn-client unpacked from the tarball and `links` symlinked from ours. */
function makeApp(root: string, name: string, tarball: string, links: string[]): Promise<string> {
  const app = join(root, name);
  const pkg = join(app, 'node_modules', 'psarn-client');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  for (const link of links) {
    mkdirSync(join(app, 'node_modules', link, '..'), { recursive: true });
    symlinkSync(join(projectRoot, 'node_modules', link), join(app, 'node_modules', link));
  }
  return run('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']).then(() => app);
}

/** The probe: imports the package, invokes each psARN, reports the SDK clients and prom-client loaded after each step. */
const PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => [...new Set(Object.keys(require.cache).flatMap((p) => {
  const m = /node_modules\\/(@aws-sdk\\/client-[a-z0-9-]+|prom-client)\\//.exec(p);
  return m ? [m[1]] : [];
}))].sort();
const { PsarnClient } = await import('psarn-client');
const report = { afterImport: loaded(), steps: [] };
const { dns, aws, psarns, registry } = JSON.parse(process.env.PROBE);
const reg = registry ? new (require('prom-client').Registry)() : undefined;
const client = new PsarnClient({
  servers: [dns],
  registry: reg,
  awsClientConfig: { endpoint: aws, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 },
});
for (const psarn of psarns) {
  let outcome;
  try {
    outcome = (await client.invoke(psarn, { n: 1 })).outcomes.map((o) => (o.ok ? 'ok' : o.error.code));
  } catch (e) {
    outcome = [e.code, ...(e.failures ?? []).map((f) => f.error.code + ': ' + f.error.message)];
  }
  report.steps.push({ psarn, outcome, loaded: loaded() });
}
if (reg) report.metrics = (await reg.getMetricsAsJSON()).map((m) => m.name).sort();
console.log(JSON.stringify(report));
`;

interface Report {
  afterImport: string[];
  steps: { psarn: string; outcome: string[]; loaded: string[] }[];
  metrics?: string[];
}

describe('the psarn-client package', () => {
  let root = '';
  let packed: Packed | undefined;
  let tarball = '';
  let daemon: RunningDaemon | undefined;
  let aws: FakeAws | undefined;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'psarn-client-pkg-'));
    // `npm pack` runs the package's prepack (LICENSE and docs copied in) as a publish would.
    const { stdout } = await run(
      'npm',
      ['pack', '--workspace', 'psarn-client', '--pack-destination', root, '--json', '--silent'],
      { cwd: projectRoot },
    );
    packed = (JSON.parse(stdout) as Packed[])[0];
    tarball = join(root, packed!.filename);
    [daemon, aws] = await startAll([startPsarnd(), startFakeAws()] as const);
    await cliOn(daemon, 'route', 'set', LAMBDA_ROUTE, '--target', LAMBDA);
    await cliOn(daemon, 'route', 'set', SQS_ROUTE, '--target', QUEUE);
  });
  after(async () => {
    await Promise.allSettled([daemon?.stop(), aws?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function probe(app: string, psarns: string[], registry = false): Promise<Report> {
    const env = {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      PROBE: JSON.stringify({ dns: `127.0.0.1:${daemon!.dns.port}`, aws: aws!.url, psarns, registry }),
    };
    writeFileSync(join(app, 'probe.mjs'), PROBE);
    const { stdout } = await run(process.execPath, ['probe.mjs'], { cwd: app, env });
    return JSON.parse(stdout) as Report;
  }

  it('ships one bundled module, the declarations, README, LICENSE and docs; no source maps, tests or native code', () => {
    const paths = packed!.files.map((f) => f.path).sort();
    const other = paths.filter((p) => !p.endsWith('.d.ts'));
    assert.deepEqual(other, [
      'LICENSE',
      'README.md',
      'dist/index.js',
      'docs/client.md',
      'docs/design.md',
      'package.json',
    ]);
    assert.ok(paths.includes('dist/client/index.d.ts'));
    for (const link of relativeLinks(readFileSync(join(projectRoot, 'src', 'client', 'README.md'), 'utf8'))) {
      assert.ok(paths.includes(posix.normalize(link)), `README links to ${link}, not in the tarball`);
    }
    const manifest = JSON.parse(readFileSync(join(projectRoot, 'src', 'client', 'package.json'), 'utf8'));
    assert.equal(manifest.license, 'Apache-2.0');
    assert.match(readFileSync(join(projectRoot, 'src', 'client', 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
    // Nothing to install, compile or approve: no dependency and no install script.
    assert.deepEqual(manifest.dependencies ?? {}, {});
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare'])
      assert.equal(manifest.scripts?.[script], undefined);
    // The SDK clients and prom-client are optional peers: npm installs none of them unasked.
    assert.deepEqual(Object.keys(manifest.peerDependencies).sort(), Object.keys(manifest.peerDependenciesMeta).sort());
    for (const meta of Object.values(manifest.peerDependenciesMeta)) assert.deepEqual(meta, { optional: true });
  });

  it('loads no SDK client and no prom-client at import; the first Lambda invoke loads only @aws-sdk/client-lambda', async () => {
    const app = await makeApp(root, 'with-sdk', tarball, ['@aws-sdk/client-lambda', '@aws-sdk/client-sqs']);
    const report = await probe(app, [LAMBDA_ROUTE, LAMBDA_ROUTE, SQS_ROUTE]);
    assert.deepEqual(report.afterImport, []);
    assert.deepEqual(report.steps[0], { psarn: LAMBDA_ROUTE, outcome: ['ok'], loaded: ['@aws-sdk/client-lambda'] });
    assert.deepEqual(report.steps[1]!.loaded, ['@aws-sdk/client-lambda']);
    assert.deepEqual(report.steps[2], {
      psarn: SQS_ROUTE,
      outcome: ['ok'],
      loaded: ['@aws-sdk/client-lambda', '@aws-sdk/client-sqs'],
    });
    assert.deepEqual(
      aws!.requests.map((r) => `${r.service} ${r.operation}`),
      ['lambda Invoke', 'lambda Invoke', 'sqs SendMessage'],
    );
  });

  it('a target whose SDK client is not installed fails with ERR_SDK_MISSING naming the package', async () => {
    const app = await makeApp(root, 'bare', tarball, []);
    const report = await probe(app, [SQS_ROUTE]);
    const [code, failure] = report.steps[0]!.outcome;
    assert.equal(code, 'ERR_ALL_TARGETS_FAILED');
    assert.match(
      failure!,
      /^ERR_SDK_MISSING: .*@aws-sdk\/client-sqs is not installed \(npm install @aws-sdk\/client-sqs/,
    );
  });

  it('loads prom-client only when given a registry, and then counts into it', async () => {
    const app = await makeApp(root, 'metrics', tarball, ['@aws-sdk/client-lambda', 'prom-client']);
    const report = await probe(app, [LAMBDA_ROUTE], true);
    assert.deepEqual(report.afterImport, []);
    assert.deepEqual(report.steps[0]!.loaded, ['@aws-sdk/client-lambda', 'prom-client']);
    assert.ok(report.metrics!.includes('psarn_client_invocations_total'), String(report.metrics));
    assert.ok(report.metrics!.includes('psarn_client_lookups_total'));
  });

  it('works from CommonJS (require of the ES module, Node.js >= 20.19)', async () => {
    const app = await makeApp(root, 'cjs', tarball, []);
    writeFileSync(
      join(app, 'probe.cjs'),
      `const { PsarnClient, psarnToName } = require('psarn-client');
       console.log(typeof PsarnClient, psarnToName('arn:aws:psarn:us-east-1:123456789012:orders/created'));`,
    );
    const { stdout } = await run(process.execPath, ['probe.cjs'], { cwd: app });
    assert.equal(stdout.trim(), 'function created.orders.123456789012.us-east-1.aws.psarn.internal.');
  });

  it('type-checks in a TypeScript app (nodenext and bundler), without prom-client or the SDK installed', async () => {
    const app = await makeApp(root, 'ts', tarball, ['@types/node']);
    writeFileSync(
      join(app, 'index.ts'),
      `import { PsarnClient, PsarnClientError, type Route } from 'psarn-client';
       const client = new PsarnClient({ servers: ['127.0.0.1:8053'], maxStale: 60 });
       export async function send(payload: unknown): Promise<string[]> {
         const route: Route = await client.resolve('arn:aws:psarn:us-east-1:123456789012:orders/created');
         try {
           return (await client.invoke(route.psarn, payload)).outcomes.map((o) => o.target);
         } catch (err) {
           if (err instanceof PsarnClientError) return [err.code];
           throw err;
         }
       }
       // @ts-expect-error the policy is a closed set
       export const bad: Route['policy'] = 'random';`,
    );
    const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const resolution of ['nodenext', 'bundler']) {
      const module = resolution === 'bundler' ? 'esnext' : 'nodenext';
      await run(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          'false',
          '--module',
          module,
          '--moduleResolution',
          resolution,
          '--types',
          'node',
          'index.ts',
        ],
        { cwd: app },
      ).catch((err: { stdout?: string }) => assert.fail(`tsc (${resolution}): ${err.stdout}`));
    }
  });

  it('resolves its types under every TypeScript resolution mode, node10 included (are-the-types-wrong)', async () => {
    const attw = join(projectRoot, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const { stdout } = await run(process.execPath, [attw, tarball, '--format', 'json']).catch(
      (err: { stdout: string }) => err,
    );
    const problems =
      (JSON.parse(stdout) as { problems?: Record<string, { resolutionKind?: string }[]> }).problems ?? {};
    // The one known: a node16 CommonJS `require` reaches an ES module. Node.js >= 20.19 loads
    // it (require of ESM); TypeScript before 5.8 types that as dynamic-import-only.
    assert.deepEqual(Object.keys(problems), ['CJSResolvesToESM']);
    assert.deepEqual(
      problems.CJSResolvesToESM!.map((p) => p.resolutionKind),
      ['node16-cjs'],
    );
  });
});
