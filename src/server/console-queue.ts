/**
 * The depth of a hold's queue for the web console (docs/design.md#web-console): SQS
 * GetQueueAttributes ApproximateNumberOfMessages through @aws-sdk/client-sqs and the SDK's own
 * configuration (AWS_REGION, the default credential chain, AWS_ENDPOINT_URL_SQS), asked only when
 * the console reads the operations, at most once per queue every `ttlMs` (failures too), each
 * call bounded by `timeoutMs`. Without credentials or network it says `unknown (<reason>)`.
 */
import { sqsSource } from '../ops/replay-sqs.js';

/** What the console shows of a queue: its messages waiting, or why that is unknown. */
export type QueueDepth = { messages: number; inFlight: number; at: number } | { unknown: string; at: number };

export interface QueueDepthOptions {
  /** How long an answer (or a failure) is kept, ms. Default 30 000. */
  ttlMs?: number;
  /** Longest wait for SQS, ms. Default 2000. */
  timeoutMs?: number;
  /** Merged over the SDK's defaults (tests: an endpoint and credentials). */
  clientConfig?: Record<string, unknown>;
  now?: () => number;
}

/** One reason line of an SDK error: its name and message, bounded. */
function why(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const text = `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`.split('\n', 1)[0]!;
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

export class QueueDepths {
  readonly #ttl: number;
  readonly #timeout: number;
  readonly #config: Record<string, unknown>;
  readonly #now: () => number;
  readonly #cache = new Map<string, QueueDepth>();
  readonly #pending = new Map<string, Promise<QueueDepth>>();

  constructor(options: QueueDepthOptions = {}) {
    this.#ttl = options.ttlMs ?? 30_000;
    this.#timeout = options.timeoutMs ?? 2000;
    this.#config = options.clientConfig ?? {};
    this.#now = options.now ?? Date.now;
  }

  /** The depth of `queueArn`, from the cache while fresh; one SQS call at a time per queue. */
  depth(queueArn: string): Promise<QueueDepth> {
    const cached = this.#cache.get(queueArn);
    if (cached !== undefined && this.#now() - cached.at < this.#ttl) return Promise.resolve(cached);
    let pending = this.#pending.get(queueArn);
    if (pending === undefined) {
      pending = this.#ask(queueArn).then((depth) => {
        this.#pending.delete(queueArn);
        // Bounded: a long-running psarnd sees many queues come and go.
        if (this.#cache.size >= 1000) this.#cache.clear();
        this.#cache.set(queueArn, depth);
        return depth;
      });
      this.#pending.set(queueArn, pending);
    }
    return pending;
  }

  async #ask(queueArn: string): Promise<QueueDepth> {
    let timer: NodeJS.Timeout | undefined;
    let source: Awaited<ReturnType<typeof sqsSource>> | undefined;
    try {
      // maxAttempts 1: the answer is a hint, refreshed in ttlMs; retries would only outlast the timeout.
      source = await sqsSource(queueArn, { maxAttempts: 1, ...this.#config });
      const counts = source.counts();
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from SQS within ${this.#timeout} ms`)), this.#timeout);
      });
      const { visible, inFlight } = await Promise.race([counts, timeout]);
      return { messages: visible, inFlight, at: this.#now() };
    } catch (err) {
      return { unknown: why((err as { cause?: unknown }).cause ?? err), at: this.#now() };
    } finally {
      clearTimeout(timer);
      // Closes the client's sockets: a call still waiting ends with them.
      source?.close();
    }
  }
}
