/**
 * The JSON API the page reads (src/server/console-api.ts; docs/design.md#web-console), with the
 * token a person typed in, kept in this tab's sessionStorage only and sent as a Bearer header.
 */
import type { Graph, RouteCallers } from '../map/types.js';

const TOKEN_KEY = 'psarn.httpToken';

export interface Version {
  version: string;
  routes: string;
  operations: string;
  callers: string;
}

export interface ZoneInfo {
  name: string;
  psarn: string;
  serial: number;
  epoch: number;
  routes: number;
}

export interface TargetInfo {
  target: string;
  weight: number;
  priority: number;
  share: number;
  role: 'primary' | 'failover' | 'drained';
}

export interface RouteInfo {
  psarn: string;
  path: string;
  ttl: number;
  policy?: 'weighted' | 'fanout';
  /** An alias's target: its DNS name, and as a psARN (the name itself when it is none). */
  alias?: string;
  aliasPsarn?: string;
  targets: TargetInfo[];
  metadata: Record<string, string>;
  serial: number;
  updatedAt: number;
  rollout?: number;
  hold?: number;
}

export interface RoutesPage {
  zone: string;
  serial: number;
  epoch: number;
  total: number;
  routes: RouteInfo[];
  next?: string;
}

export interface RolloutInfo {
  id: number;
  psarn: string;
  to: string;
  status: string;
  step: number;
  steps: number[];
  percent: number;
  every: string;
  gate?: { query: string; prometheus: string };
  nextStepAt?: string;
  nextPercent?: number;
  pauseReason?: string;
  lastGate?: string;
  startedBy?: string;
}

export type QueueDepth = { messages: number; inFlight: number; at: number } | { unknown: string; at: number };

export interface HoldInfo {
  id: number;
  psarn: string;
  queue: string;
  since: string;
  heldBy?: string;
  depth: QueueDepth;
}

export interface Operations {
  rollouts: RolloutInfo[];
  holds: HoldInfo[];
}

export type CallersInfo = RouteCallers & { total: number };

/**
 * A read the API refused (401: the page asks for the token again) or failed, with its stable
 * code when it sent one. Not an Error subclass: it is an answer, caught by the page, and psarn's
 * error family (src/errors.ts) is for errors that leave a module.
 */
export class ApiFailure {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** GET /api/v1/<path>, as JSON. @throws ApiFailure (or a TypeError when psarnd is unreachable) */
export async function get<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, v);
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token.get();
  if (t !== null) headers.authorization = `Bearer ${t}`;
  const qs = query.toString();
  const res = await fetch(`/api/v1/${path}${qs === '' ? '' : `?${qs}`}`, {
    headers,
    cache: 'no-store',
    credentials: 'omit',
  });
  const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  if (!res.ok) {
    throw new ApiFailure(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText);
  }
  return body as T;
}

export const api = {
  version: () => get<Version>('version'),
  zones: () => get<{ catalogSerial: number; zones: ZoneInfo[] }>('zones'),
  routes: (zone: string, limit: number) => get<RoutesPage>('routes', { zone, limit: String(limit) }),
  moreRoutes: (zone: string, after: string, limit: number) =>
    get<RoutesPage>('routes', { zone, after, limit: String(limit) }),
  operations: () => get<Operations>('operations'),
  graph: (zone: string | undefined) => get<Graph>('graph', { zone }),
  callers: (psarn: string) => get<CallersInfo>('callers', { psarn }),
};
