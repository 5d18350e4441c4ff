/**
 * A rollout's metric gate against the Prometheus HTTP API (docs/design.md#rollout-gates): one
 * instant query (`POST <url>/api/v1/query`); a non-empty vector or matrix fires the gate (the
 * rollout aborts), an empty one lets the step go ahead. Whatever cannot be evaluated — Prometheus
 * down, a timeout, a non-2xx, a query Prometheus rejects, a scalar result, a bad URL — is
 * `{ ok: false, reason }` (the rollout pauses and shows the reason): `evaluate` never throws and
 * never turns an unknown into "not fired".
 */
import type { GateEvaluator, GateResult } from './types.js';

export interface PrometheusGateOptions {
  /** The fetch to call (tests pass a fake); default the global one. */
  fetch?: typeof fetch;
  /** Whole exchange, connect to last byte; also sent to Prometheus as the query's `timeout`. Default 10 000. */
  timeoutMs?: number;
  /** Milliseconds clock, for the duration in `detail` and in a timeout's reason. Default Date.now. */
  now?: () => number;
  /**
   * Sent as `Authorization: Bearer <token>` when the URL carries no userinfo. Default: env
   * PSARN_PROMETHEUS_TOKEN, read at construction (docs/design.md#rollout-gates); `''` sends none.
   */
  token?: string;
}

/** The body Prometheus answers with, success or error (prometheus.io/docs/prometheus/latest/querying/api). */
interface ApiBody {
  status?: unknown;
  data?: { resultType?: unknown; result?: unknown };
  errorType?: unknown;
  error?: unknown;
  warnings?: unknown;
}

interface Series {
  metric?: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
  histogram?: unknown;
  histograms?: unknown;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** A gate's answer is a handful of series; past this the query is not a gate (aggregate it). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_DETAIL = 300;

export class PrometheusGate implements GateEvaluator {
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #token: string | undefined;

  constructor(options: PrometheusGateOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`PrometheusGate timeoutMs: ${timeoutMs} is not a positive number of milliseconds`);
    }
    this.#fetch = options.fetch ?? ((...args) => fetch(...args));
    this.#timeoutMs = timeoutMs;
    this.#now = options.now ?? Date.now;
    const token = options.token ?? process.env.PSARN_PROMETHEUS_TOKEN;
    this.#token = token === undefined || token === '' ? undefined : token;
  }

  /**
   * Evaluates `query` at Prometheus' current time.
   * @example
   * const r = await new PrometheusGate().evaluate('sum(rate(errors_total[1m])) > 0', 'http://prometheus:9090');
   * if (!r.ok) pause(r.reason); else if (r.fired) abort(r.detail);
   */
  async evaluate(query: string, prometheus: string, signal?: AbortSignal): Promise<GateResult> {
    try {
      return await this.#evaluate(query, prometheus, signal);
    } catch (error) {
      // Only a bug lands here; the gate's promise is a result, never a rejection.
      return { ok: false, reason: `gate evaluation failed unexpectedly: ${oneLine(messageOf(error))}` };
    }
  }

  async #evaluate(query: string, prometheus: string, signal?: AbortSignal): Promise<GateResult> {
    if (query.trim() === '') return { ok: false, reason: 'the --abort-if query is empty' };
    const target = endpoint(prometheus);
    if ('reason' in target) return { ok: false, reason: target.reason };
    const { url, shown, authorization } = target;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
    };
    const auth = authorization ?? (this.#token !== undefined ? `Bearer ${this.#token}` : undefined);
    if (auth !== undefined) headers.authorization = auth;
    // Prometheus stops the query at its own `timeout` too, so an expensive one does not keep
    // running after we gave up on it.
    const body = new URLSearchParams({ query, timeout: `${this.#timeoutMs}ms` }).toString();

    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const aborted = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    const started = this.#now();
    let status: number;
    let statusText: string;
    let text: string | undefined;
    try {
      // POST keeps a long query out of URLs and access logs; Prometheus has accepted it since 2.1.
      const res = await this.#fetch(url, { method: 'POST', headers, body, signal: aborted, redirect: 'follow' });
      status = res.status;
      statusText = res.statusText;
      text = await readCapped(res, MAX_BODY_BYTES);
    } catch (error) {
      if (signal?.aborted === true) return { ok: false, reason: `gate evaluation cancelled: ${reasonOf(signal)}` };
      if (timeout.aborted) {
        return {
          ok: false,
          reason: `Prometheus at ${shown} did not answer within ${this.#timeoutMs} ms (waited ${this.#now() - started} ms)`,
        };
      }
      return { ok: false, reason: `cannot reach Prometheus at ${shown}: ${oneLine(fetchFailure(error))}` };
    }
    const elapsed = this.#now() - started;
    if (text === undefined) {
      return {
        ok: false,
        reason: `Prometheus at ${shown} answered more than ${MAX_BODY_BYTES} bytes; a gate query should aggregate (sum, count, topk)`,
      };
    }

    let parsed: ApiBody | undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === 'object') parsed = value as ApiBody;
    } catch {
      parsed = undefined;
    }
    // Prometheus answers 400 (bad_data), 422 (execution) and 503 (timeout, canceled) with the
    // JSON error body: its own message says more than the status line.
    if (parsed?.status === 'error') {
      const kind = typeof parsed.errorType === 'string' ? `${parsed.errorType}: ` : '';
      const message = typeof parsed.error === 'string' ? parsed.error : 'no error message';
      return { ok: false, reason: `Prometheus rejected the query (HTTP ${status}): ${oneLine(kind + message)}` };
    }
    if (status < 200 || status > 299) {
      const snippet = parsed === undefined && text.trim() !== '' ? `: ${clip(oneLine(text), 120)}` : '';
      return { ok: false, reason: `Prometheus at ${shown} answered HTTP ${status} ${statusText}${snippet}`.trimEnd() };
    }
    if (parsed === undefined || parsed.status !== 'success' || parsed.data === undefined) {
      return {
        ok: false,
        reason: `Prometheus at ${shown} answered HTTP ${status} with a body that is not a query API answer: ${clip(oneLine(text), 120)}`,
      };
    }
    return this.#judge(parsed, elapsed);
  }

  #judge(body: ApiBody, elapsed: number): GateResult {
    const { resultType, result } = body.data ?? {};
    const warnings =
      Array.isArray(body.warnings) && body.warnings.length > 0 ? ` (warnings: ${body.warnings.join('; ')})` : '';
    if (resultType === 'scalar' || resultType === 'string') {
      // "Non-empty" cannot apply to a single value: `sum(x) > 0` is a scalar 0 or 1 only when
      // written with `bool` or on scalars. Guessing which value means "bad" would promote blindly.
      const value = Array.isArray(result) ? String(result[1]) : '?';
      return {
        ok: false,
        reason: `the query returns a ${resultType} (${clip(value, 40)}), not a vector; write a vector comparison that is empty when healthy, e.g. sum(increase(errors_total[1m])) > 0`,
      };
    }
    if (resultType !== 'vector' && resultType !== 'matrix') {
      return { ok: false, reason: `Prometheus answered an unknown result type '${clip(String(resultType), 40)}'` };
    }
    if (!Array.isArray(result))
      return { ok: false, reason: `Prometheus answered a ${resultType} whose result is not a list` };
    const series = result as Series[];
    if (series.length === 0) {
      return { ok: true, fired: false, series: 0, detail: oneLine(`empty result in ${elapsed} ms${warnings}`) };
    }
    const first = series[0]!;
    const more = series.length > 1 ? ` (+${series.length - 1} more)` : '';
    const detail = `${series.length} series: ${seriesName(first.metric)} = ${sampleOf(first)}${more}${warnings}`;
    return { ok: true, fired: true, series: series.length, detail: clip(oneLine(detail), MAX_DETAIL) };
  }
}

type Endpoint = { url: string; shown: string; authorization: string | undefined } | { reason: string };

/**
 * `<base>/api/v1/query` for a base URL that may carry a path prefix (`--web.route-prefix`,
 * a proxy) and userinfo. Userinfo becomes basic auth (fetch refuses a URL that carries it) and
 * is never shown: `shown` is what reasons print.
 */
export function endpoint(prometheus: string): Endpoint {
  let base: URL;
  try {
    base = new URL(prometheus);
  } catch {
    return { reason: `invalid Prometheus URL '${clip(redactRaw(prometheus), 120)}': use http://HOST:PORT` };
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    return { reason: `invalid Prometheus URL: scheme '${base.protocol}' is not http: or https:` };
  }
  let authorization: string | undefined;
  if (base.username !== '' || base.password !== '') {
    const user = decodeURIComponent(base.username);
    const password = decodeURIComponent(base.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    base.username = '';
    base.password = '';
  }
  // The query string and fragment of a base URL have no meaning for the API path; drop them.
  base.search = '';
  base.hash = '';
  base.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v1/query`;
  return { url: base.toString(), shown: `${base.origin}${base.pathname}`, authorization };
}

/** The body as text, or undefined past `max` bytes (the rest is not read). */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (res.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function seriesName(metric: Record<string, string> | undefined): string {
  if (metric === undefined) return '{}';
  const { __name__: name = '', ...labels } = metric;
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${pairs.join(',')}}`;
}

function sampleOf(s: Series): string {
  if (Array.isArray(s.value)) return String(s.value[1]);
  if (Array.isArray(s.values) && s.values.length > 0)
    return `${String(s.values[s.values.length - 1]![1])} (last sample)`;
  if (s.histogram !== undefined || s.histograms !== undefined) return '(native histogram)';
  return '(no sample)';
}

/** undici's "fetch failed" hides the useful part (ECONNREFUSED, ENOTFOUND, a TLS error) in `cause`. */
function fetchFailure(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause !== undefined && cause !== null) {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    const message = typeof cause.message === 'string' ? cause.message : undefined;
    if (message !== undefined && message !== '')
      return code !== undefined && !message.includes(code) ? `${code} ${message}` : message;
    if (code !== undefined) return code;
  }
  return messageOf(error);
}

function reasonOf(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : String(r ?? 'aborted');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A URL that did not parse may still hold `user:password@`: never print it. */
function redactRaw(s: string): string {
  return s.replace(/\/\/[^/@]*@/, '//…@');
}
