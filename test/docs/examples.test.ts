/**
 * docs/examples/kubernetes.yaml and docs/examples/compose.yaml, kept valid (issue 10): both parse,
 * their parts line up (volumes and the mounts that use them, the Secret's keys and the config's
 * secretFile paths, ports, probes, who NOTIFYs whom), and every psarnd config in them loads with
 * psarnd's own loadConfig on top of the image's ENV (the Dockerfile's) and the container's env,
 * as the container would load it; and the psarnd configs of docs/topology.md. A config key
 * renamed in src/config/ fails here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { type Config, loadConfig } from '../../src/config/config.js';
import { projectRoot } from '../helpers/daemon.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is walked by the shapes the tests assert
type Any = any;

const examples = join(projectRoot, 'docs', 'examples');
const read = (name: string) => readFileSync(join(examples, name), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'psarn-examples-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The Dockerfile's ENV of the final stage: what a psarnd container has before its own env. */
function imageEnv(): Record<string, string> {
  const text = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const final = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of final.split('\n')) {
    const m = /^\s*ENV\s+(.*)$/.exec(line);
    if (m === null) continue;
    for (const pair of m[1]!.trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

/** The image runs psarnd itself (ENTRYPOINT), so a container of it must not replace the command. */
function assertRunsPsarnd(container: Any, where: string): void {
  const entry = /^ENTRYPOINT\s+(.*)$/m.exec(readFileSync(join(projectRoot, 'Dockerfile'), 'utf8'));
  assert.ok(entry?.[1]?.includes('dist/src/server/main.js'), 'the Dockerfile ENTRYPOINT is psarnd');
  assert.equal(container.command, undefined, `${where}: the image's ENTRYPOINT runs psarnd; no command`);
  assert.equal(container.entrypoint, undefined, `${where}: no entrypoint override`);
}

/**
 * Loads a psarnd config text as the container would: its secretFile paths must be among
 * `secretPaths` (the files the container has mounted); each is written, with a fresh secret,
 * under a temporary folder and the config pointed there; `env` is the image's ENV and the
 * container's.
 */
function loadAsContainer(text: string, secretPaths: Set<string>, env: Record<string, string>, where: string): Config {
  const doc = parse(text) as Any;
  for (const key of doc?.tsig?.keys ?? []) {
    if (key.secretFile === undefined) continue;
    assert.ok(
      secretPaths.has(key.secretFile),
      `${where}: secretFile ${key.secretFile} is not a file the container mounts (${[...secretPaths].join(', ')})`,
    );
    const file = join(dir, where.replace(/\W+/g, '-'), key.secretFile);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`);
    key.secretFile = file;
  }
  const path = join(dir, `${where.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(path, stringify(doc));
  const { PSARN_CONFIG: _named, ...rest } = env;
  return loadConfig({ file: path, env: rest, cwd: dir }).config;
}

/** The names of the keys a config loaded (a TSIG key name is kept as a domain name, with its dot). */
const keyNames = (config: Config): string[] => config.tsig.keys.map((k) => k.name.replace(/\.$/, ''));

/** The paths a psarnd handles on its HTTP port, from src/server/http.ts. */
function httpPaths(): Set<string> {
  const source = readFileSync(join(projectRoot, 'src', 'server', 'http.ts'), 'utf8');
  return new Set([...source.matchAll(/path === '(\/[a-z]+)'/g)].map((m) => m[1]!));
}

describe('docs/examples/kubernetes.yaml', () => {
  const docs = parseAllDocuments(read('kubernetes.yaml')).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as Any;
  });
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const named = (kind: string, name: string) => {
    const found = docs.find((d) => d.kind === kind && d.metadata?.name === name);
    assert.ok(found, `no ${kind} named ${name}`);
    return found;
  };
  const namespace = named('Namespace', 'psarn').metadata.name as string;

  /** A workload's psarnd container: its config as loaded, and what the pod around it holds. */
  function psarndOf(kind: string, name: string) {
    const workload = named(kind, name);
    const pod = workload.spec.template.spec;
    const container = pod.containers.find((c: Any) => c.name === 'psarnd');
    assert.ok(container, `${kind}/${name} has a container named psarnd`);
    assert.match(container.image, /^psarnd(:|$)/, 'the image `docker build -t psarnd .` makes');
    assertRunsPsarnd(container, `${kind}/${name}`);
    const volumes = new Map<string, Any>(pod.volumes.map((v: Any) => [v.name, v]));
    const claims = new Set((workload.spec.volumeClaimTemplates ?? []).map((c: Any) => c.metadata.name));
    const secretPaths = new Set<string>();
    let configText: string | undefined;
    const env = Object.fromEntries(container.env.map((e: Any) => [e.name, e.value]));
    for (const mount of container.volumeMounts) {
      const volume = volumes.get(mount.name);
      assert.ok(volume !== undefined || claims.has(mount.name), `${name}: mount ${mount.name} has a volume`);
      if (volume?.secret !== undefined) {
        const secret = named('Secret', volume.secret.secretName);
        for (const item of volume.secret.items) {
          assert.ok(item.key in secret.stringData, `Secret ${secret.metadata.name} has the key ${item.key}`);
          secretPaths.add(`${mount.mountPath}/${item.path}`);
        }
      }
      if (volume?.configMap !== undefined) {
        const map = named('ConfigMap', volume.configMap.name);
        for (const [key, text] of Object.entries(map.data as Record<string, string>)) {
          if (`${mount.mountPath}/${key}` === env.PSARN_CONFIG) configText = text;
        }
      }
    }
    assert.ok(configText !== undefined, `${name}: PSARN_CONFIG ${env.PSARN_CONFIG} is a mounted ConfigMap key`);
    for (const d of docs) {
      if (d.kind !== 'Namespace') assert.equal(d.metadata.namespace, namespace, `${d.kind}/${d.metadata.name}`);
    }
    const config = loadAsContainer(configText, secretPaths, { ...imageEnv(), ...env }, `k8s-${name}`);
    // The database is on a volume, not in the container's layer.
    const dataMount = container.volumeMounts.find((m: Any) => config.db.startsWith(`${m.mountPath}/`));
    assert.ok(dataMount, `${name}: the database ${config.db} is on a mounted volume`);
    // Probes: the paths psarnd serves, on its HTTP port, which listens beyond loopback for the kubelet.
    const paths = httpPaths();
    for (const [probe, path] of [
      ['readinessProbe', '/ready'],
      ['livenessProbe', '/health'],
    ] as const) {
      assert.equal(container[probe].httpGet.path, path);
      assert.ok(paths.has(path), `src/server/http.ts serves ${path}`);
      assert.equal(container[probe].httpGet.port, config.http.port, `${name}: ${probe} on the HTTP port`);
    }
    assert.equal(config.http.host, '0.0.0.0', `${name}: the kubelet reaches /ready at the pod's address`);
    return { workload, pod, container, config };
  }

  it('has the kinds of a primary and an app with sidecars, in one namespace', () => {
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'Namespace',
      'Secret',
      'Service',
      'Service',
      'StatefulSet',
    ]);
    assert.equal(byKind('Secret')[0].type, 'Opaque');
  });

  it('the primary: transfers and UPDATE allowed by key, behind a Service on its DNS port', () => {
    const { workload, container, config } = psarndOf('StatefulSet', 'psarn-primary');
    assert.equal(config.secondary, undefined);
    const keys = keyNames(config);
    assert.ok(config.transfer.allow.every((k) => keys.includes(k)) && config.transfer.allow.length > 0);
    assert.ok(config.update.allow.every((k) => keys.includes(k)) && config.update.allow.length > 0);
    const service = named('Service', workload.spec.serviceName);
    assert.deepEqual(service.spec.selector, workload.spec.template.metadata.labels);
    assert.deepEqual(workload.spec.selector.matchLabels, workload.spec.template.metadata.labels);
    for (const protocol of ['UDP', 'TCP']) {
      const port = service.spec.ports.find((p: Any) => p.protocol === protocol);
      assert.equal(port.targetPort, config.listen.port, `Service ${protocol} reaches psarnd's DNS port`);
      assert.ok(
        container.ports.some((p: Any) => p.containerPort === config.listen.port && p.protocol === protocol),
        `the container declares ${config.listen.port}/${protocol}`,
      );
    }
    assert.equal(config.listen.host, '0.0.0.0', 'the Service reaches the primary at the pod address');
  });

  it('the app: a psarnd sidecar, a secondary of the primary Service, answering the app on localhost', () => {
    const { workload, pod, config } = psarndOf('Deployment', 'orders');
    assert.deepEqual(workload.spec.selector.matchLabels, workload.spec.template.metadata.labels);
    assert.deepEqual(
      pod.containers.map((c: Any) => c.name),
      ['app', 'psarnd'],
    );
    const secondary = config.secondary!;
    assert.ok(secondary, 'secondary mode');
    const primary = named('StatefulSet', 'psarn-primary');
    const service = named('Service', primary.spec.serviceName);
    assert.equal(secondary.primary.host, `${service.metadata.name}.${namespace}.svc.cluster.local`);
    assert.ok(service.spec.ports.some((p: Any) => p.port === secondary.primary.port && p.protocol === 'TCP'));
    assert.equal(secondary.zones, 'catalog');
    assert.ok(keyNames(config).includes(secondary.key!), 'the transfer key is loaded');
    const primaryConfig = psarndOf('StatefulSet', 'psarn-primary').config;
    assert.ok(primaryConfig.transfer.allow.includes(secondary.key!), 'the primary lets that key transfer');
    const app = pod.containers.find((c: Any) => c.name === 'app');
    const servers = app.env.find((e: Any) => e.name === 'PSARN_SERVERS').value;
    assert.equal(servers, `127.0.0.1:${config.listen.port}`);
  });

  it("the primary NOTIFYs every sidecar: its notify names a headless Service of the app's pods, with the sidecars' key", () => {
    const { workload, container, config } = psarndOf('Deployment', 'orders');
    const primaryConfig = psarndOf('StatefulSet', 'psarn-primary').config;
    // The primary's StatefulSet has its own Service: the sidecars' is the one selecting the app.
    const podLabels = workload.spec.template.metadata.labels as Record<string, string>;
    const selects = (service: Any) =>
      Object.entries(service.spec.selector ?? {}).every(([k, v]) => podLabels[k] === v) &&
      Object.keys(service.spec.selector ?? {}).length > 0;
    const sidecars = byKind('Service').filter(selects);
    assert.equal(sidecars.length, 1, "one Service selects the app's pods");
    const service = sidecars[0];
    assert.equal(service.spec.clusterIP, 'None', 'headless: its name resolves to every pod address');
    assert.equal(service.spec.publishNotReadyAddresses, true, 'a pod whose app is not ready still gets NOTIFYs');
    assert.equal(primaryConfig.notify.length, 1);
    const [entry] = primaryConfig.notify;
    assert.deepEqual(entry!.address, {
      host: `${service.metadata.name}.${namespace}.svc.cluster.local`,
      port: service.spec.ports[0].port,
    });
    for (const protocol of ['UDP', 'TCP']) {
      const port = service.spec.ports.find((p: Any) => p.protocol === protocol);
      assert.equal(port.port, entry!.address.port);
      assert.equal(port.targetPort, config.listen.port, `Service ${protocol} reaches the sidecar's DNS port`);
      assert.ok(
        container.ports.some((p: Any) => p.containerPort === config.listen.port && p.protocol === protocol),
        `the sidecar declares ${config.listen.port}/${protocol}`,
      );
    }
    // Signed with the key the sidecars require of a NOTIFY (docs/design.md#secondary-mode), one
    // the primary loads.
    assert.equal(entry!.key, config.secondary!.key);
    assert.ok(keyNames(primaryConfig).includes(entry!.key!));
    // The sidecar listens at the pod's address (the NOTIFY arrives there; the app asks 127.0.0.1).
    assert.equal(config.listen.host, '0.0.0.0');
    // NOTIFY carries the changes; the SOA refresh is only the fallback.
    assert.ok(primaryConfig.soa.refresh >= 60, `soa.refresh ${primaryConfig.soa.refresh}`);
  });
});

describe('docs/examples/compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as Any;
  const services = compose.services as Record<string, Any>;
  const ipOf = (name: string): string => {
    const service = services[name];
    const via = /^service:(.+)$/.exec(service.network_mode ?? '');
    if (via) return ipOf(via[1]!);
    return service.networks.psarn.ipv4_address;
  };

  /** A psarnd service's config as the container loads it. */
  function psarndOf(name: string): Config {
    const service = services[name];
    assert.equal(service.image, 'psarnd', `${name}: the image \`docker build -t psarnd .\` makes`);
    assertRunsPsarnd(service, name);
    const env = service.environment as Record<string, string>;
    const config = service.configs.find((c: Any) => c.target === env.PSARN_CONFIG);
    assert.ok(config, `${name}: PSARN_CONFIG ${env.PSARN_CONFIG} is a config it mounts`);
    const text = compose.configs[config.source]?.content;
    assert.equal(typeof text, 'string', `${name}: config ${config.source} is declared with its content`);
    for (const secret of service.secrets) assert.ok(secret in compose.secrets, `${name}: secret ${secret} declared`);
    const secretPaths = new Set<string>(service.secrets.map((s: string) => `/run/secrets/${s}`));
    for (const volume of service.volumes ?? []) {
      assert.ok(volume.split(':')[0] in compose.volumes, `${name}: volume ${volume} declared`);
    }
    return loadAsContainer(text, secretPaths, { ...imageEnv(), ...env }, `compose-${name}`);
  }

  it('has one primary, two apps with a sidecar each and a Knot secondary', () => {
    assert.deepEqual(Object.keys(services).sort(), ['app-a', 'app-b', 'knot', 'primary', 'sidecar-a', 'sidecar-b']);
    assert.match(services.knot.image, /knot/);
  });

  it('the primary NOTIFYs every secondary at its address and port, signed with a key it loads', () => {
    const primary = psarndOf('primary');
    assert.equal(primary.secondary, undefined);
    const keys = keyNames(primary);
    const targets = primary.notify.map((n) => `${n.address.host}:${n.address.port}`).sort();
    const sidecarPort = psarndOf('sidecar-a').listen.port;
    const knotPort = Number(/listen: 0\.0\.0\.0@(\d+)/.exec(compose.configs['knot-conf'].content)?.[1]);
    assert.deepEqual(
      targets,
      [
        `${ipOf('sidecar-a')}:${sidecarPort}`,
        `${ipOf('sidecar-b')}:${sidecarPort}`,
        `${ipOf('knot')}:${knotPort}`,
      ].sort(),
    );
    for (const n of primary.notify) assert.ok(n.key !== undefined && keys.includes(n.key));
    assert.ok(primary.transfer.allow.length > 0 && primary.update.allow.length > 0);
    // The published port is psarnd's DNS port (the remote CLI and nsupdate use it).
    for (const p of services.primary.ports)
      assert.equal(Number(p.split(':').at(-1).split('/')[0]), primary.listen.port);
  });

  it('each sidecar is a secondary of the primary in its app network namespace, listening where it is NOTIFYd', () => {
    const primary = psarndOf('primary');
    for (const [sidecar, app] of [
      ['sidecar-a', 'app-a'],
      ['sidecar-b', 'app-b'],
    ] as const) {
      const config = psarndOf(sidecar);
      assert.equal(services[sidecar].network_mode, `service:${app}`);
      assert.deepEqual(config.secondary?.primary, { host: ipOf('primary'), port: primary.listen.port });
      assert.equal(config.secondary?.zones, 'catalog');
      assert.ok(primary.transfer.allow.includes(config.secondary!.key!));
      assert.equal(config.listen.host, '0.0.0.0', 'the NOTIFY arrives at the app address');
      assert.equal(services[app].environment.PSARN_SERVERS, `127.0.0.1:${config.listen.port}`);
      assert.equal(config.nsid, services[sidecar].environment.PSARN_NSID, 'dig +nsid tells the sidecars apart');
    }
  });

  it("Knot's config names the primary, the same key and the catalog zone of the namespace", () => {
    const primary = psarndOf('primary');
    const knot = compose.configs['knot-conf'].content as string;
    assert.match(knot, new RegExp(`address: ${ipOf('primary').replaceAll('.', '\\.')}@${primary.listen.port}\\b`));
    assert.match(knot, new RegExp(`key: ${primary.transfer.allow[0]}\\b`));
    assert.match(knot, new RegExp(`domain: catalog\\.${primary.namespace.slice(0, -1).replaceAll('.', '\\.')}\\b`));
    assert.match(knot, /catalog-role: interpret/);
    const mounted = services.knot.configs.find((c: Any) => c.source === 'knot-conf');
    assert.deepEqual(services.knot.command.slice(-2), ['-c', mounted.target]);
  });
});

describe("docs/topology.md's psarnd configs", () => {
  const text = readFileSync(join(projectRoot, 'docs', 'topology.md'), 'utf8');
  // Every ```yaml block with a top-level `tsig` is a psarnd config (Knot's blocks have `key`).
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((block) => (parse(block) as Any)?.tsig !== undefined);

  it('load with psarnd config loader, a primary and a secondary among them', () => {
    assert.ok(blocks.length >= 2, `psarnd config blocks found: ${blocks.length}`);
    const configs = blocks.map((block, i) => {
      const files = new Set<string>(
        ((parse(block) as Any).tsig.keys as Any[]).map((k) => k.secretFile).filter((f) => f !== undefined),
      );
      return loadAsContainer(block, files, {}, `topology-${i}`);
    });
    assert.ok(configs.some((c) => c.secondary === undefined && c.transfer.allow.length > 0 && c.notify.length > 0));
    assert.ok(configs.some((c) => c.secondary?.zones === 'catalog'));
  });
});
