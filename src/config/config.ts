/**
 * psarnd/psarn configuration (DESIGN.md §5): YAML file, then env PSARN_<KEY>, then flags.
 * Validated once at start; a bad value is a ConfigError naming the key and the reason.
 */
import type { ZoneParams } from '../store/types.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  /** DNS, UDP and TCP. Default 127.0.0.1:8053. */
  listen: HostPort;
  /** /metrics /health /ready. Default 127.0.0.1:9153. */
  http: HostPort;
  /** SQLite file, resolved against the working directory. Default ./data/psarn.db. */
  db: string;
  /** Canonical (lowercase, trailing dot). Default psarn.internal. */
  namespace: string;
  /** Absolute names. Default [ns.psarn.internal.]. */
  nameservers: string[];
  /** 0..172800. Default 300. */
  defaultTtl: number;
  /** Default 5. */
  epochTtl: number;
  soa: { refresh: number; retry: number; expire: number; minimum: number };
  tcp: { idleTimeoutMs: number; maxConnections: number };
  /** 512..4096. Default 1232. */
  udpPayloadSize: number;
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** Resolved path, or null for none. Default config/demo-routes.yaml. */
  demoRoutes: string | null;
}

export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  /** Dotted key, e.g. 'tcp.maxConnections', or '' for the file as a whole. */
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
    this.key = key;
  }
}

export interface LoadOptions {
  /** --config; else env PSARN_CONFIG; else config/psarnd.yaml when it exists; else defaults only. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Flag values by dotted key, e.g. { listen: '127.0.0.1:0', db: '/tmp/x.db' }: highest precedence. */
  overrides?: Record<string, string | undefined>;
  /** Base for relative paths. Default process.cwd(). */
  cwd?: string;
}

/** @throws ConfigError */
export function loadConfig(_options: LoadOptions = {}): { config: Config; file: string | undefined } {
  throw new Error('not implemented');
}

/** "127.0.0.1:8053", "[::1]:53", "localhost:0". @throws ConfigError(key) */
export function parseHostPort(_value: string, _key: string): HostPort {
  throw new Error('not implemented');
}

/** SOA/NS parameters for a zone created under this config (mname = first nameserver, rname = hostmaster.<namespace>, soaTtl and nsTtl 3600). */
export function zoneParams(_config: Config): ZoneParams {
  throw new Error('not implemented');
}
