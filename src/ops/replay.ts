/**
 * Replay of a hold queue (docs/design.md#hold-and-release): receive messages (long polling, a
 * visibility timeout), invoke each through the restored route, delete a message only after its
 * invocation succeeded. At least once: a message is gone from the queue only once a target took
 * it, so a kill at any point loses nothing; what a killed run had invoked but not yet deleted is
 * invoked again by the next run (counted there as `redelivered`).
 *
 * The queue and the invocation are seams (QueueSource, `invoke`), so the loop is tested with a
 * stand-in queue and an injected clock; src/ops/replay-sqs.ts is the SQS source.
 */
import { decodeBody } from './replay-body.js';
import { RateLimiter, type SleepClock } from './replay-rate.js';

export interface QueueMessage {
  id: string;
  /** The receipt handle of this receive (only the latest one deletes). */
  handle: string;
  body: string;
  /** ApproximateReceiveCount, this receive included. */
  receiveCount: number;
}

/** A queue as replay uses it (SQS in src/ops/replay-sqs.ts). */
export interface QueueSource {
  receive(options: { max: number; waitSeconds: number; visibilitySeconds: number }): Promise<QueueMessage[]>;
  /** Deletes by receipt handle; returns the ids it could not delete, with why. */
  delete(messages: readonly { id: string; handle: string }[]): Promise<{ id: string; reason: string }[]>;
  /** Approximate counts: visible, and received but not deleted (in flight). */
  counts(): Promise<{ visible: number; inFlight: number }>;
}

/** What a run did. */
export interface ReplayCounts {
  /** Receives of a message counted once per message. */
  received: number;
  /** Invoked successfully (deleted, but for `notDeleted` of them). */
  replayed: number;
  /** Invocations that failed: left in the queue (they reappear after the visibility timeout). */
  failed: number;
  /** Invoked successfully but not deleted (the delete failed): will be invoked again by a later run. */
  notDeleted: number;
  /**
   * Messages whose first receive in this run was not their first receive (ApproximateReceiveCount
   * > 1): a duplicate when an earlier run had invoked it and stopped before deleting it, a retry
   * of an earlier failure otherwise.
   */
  redelivered: number;
  /** Received again in this run after their success (visibility ran out): deleted, not invoked twice. */
  repeats: number;
  /** Queue counts at the end (approximate, SQS's). */
  leftVisible: number;
  leftInFlight: number;
  elapsedMs: number;
}

export interface ReplayProgress {
  received: number;
  replayed: number;
  failed: number;
  /** Messages in the queue at the start (visible + in flight), the bar's 100%. */
  total: number;
  elapsedMs: number;
}

export interface ReplayOptions {
  source: QueueSource;
  /** Invokes the payload through the route; throws when no target took it. */
  invoke(payload: unknown): Promise<void>;
  clock: SleepClock;
  /** Invocations a second at most; default unlimited. */
  rate?: number;
  /** Receive loops in parallel, each with at most 10 messages in flight (default 4). */
  workers?: number;
  /** Long-poll wait of each receive, seconds (default 2). */
  waitSeconds?: number;
  /** Visibility timeout of each receive, seconds (default from the rate, at least 30). */
  visibilitySeconds?: number;
  /**
   * Asked before each receive; a string stops the run with that reason (the route is held
   * again, psarnd cannot be asked).
   */
  guard?(): Promise<string | undefined>;
  onProgress?(progress: ReplayProgress): void;
  /** Least ms between two onProgress calls (default 500); the last one is always made. */
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export interface ReplayResult extends ReplayCounts {
  /** Why the run stopped before the queue was drained, if it did. */
  stopped?: string;
}

/** SQS's largest batch (ReceiveMessage MaxNumberOfMessages, DeleteMessageBatch entries). */
export const BATCH = 10;
/** Receives in a row that brought only messages already failed in this run before a loop ends. */
const STALE_RECEIVES = 3;

/** Visibility long enough for a worker's batch at `rate` plus a margin for slow targets. */
export function visibilityFor(rate: number | undefined, workers: number): number {
  const pace = rate === undefined ? 0 : Math.ceil((workers * BATCH) / rate);
  return Math.min(43_200, Math.max(30, pace + 30));
}

/**
 * Drains the queue once: stops when a receive brings no message not yet failed in this run
 * (a failed message comes back after the visibility timeout; it is not retried in the same run).
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { source, clock } = options;
  const workers = options.workers ?? 4;
  const waitSeconds = options.waitSeconds ?? 2;
  const visibilitySeconds = options.visibilitySeconds ?? visibilityFor(options.rate, workers);
  const limiter = options.rate === undefined ? undefined : new RateLimiter(options.rate, clock);
  const start = clock.now();
  const counts = { received: 0, replayed: 0, failed: 0, redelivered: 0, repeats: 0 };
  const seen = new Set<string>();
  const failed = new Set<string>();
  /** Invoked successfully in this run; deleted when true. */
  const succeeded = new Map<string, boolean>();
  const inFlight = new Set<string>();
  let stopped: string | undefined;
  const before = await source.counts();
  const total = before.visible + before.inFlight;
  let lastProgress = Number.NEGATIVE_INFINITY;
  const progress = (force = false) => {
    if (options.onProgress === undefined) return;
    const now = clock.now();
    if (!force && now - lastProgress < (options.progressEveryMs ?? 500)) return;
    lastProgress = now;
    options.onProgress({ ...pick(counts), total, elapsedMs: now - start });
  };
  const pick = (c: typeof counts) => ({ received: c.received, replayed: c.replayed, failed: c.failed });

  const one = async (m: QueueMessage): Promise<boolean> => {
    try {
      await limiter?.take();
      await options.invoke(decodeBody(m.body));
      return true;
    } catch {
      return false;
    }
  };

  const loop = async (): Promise<void> => {
    let stale = 0;
    while (stopped === undefined && !options.signal?.aborted) {
      const reason = await options.guard?.();
      if (reason !== undefined) {
        stopped ??= reason;
        return;
      }
      const batch = await source.receive({ max: BATCH, waitSeconds, visibilitySeconds });
      const fresh: QueueMessage[] = [];
      const again: QueueMessage[] = [];
      for (const m of batch) {
        if (succeeded.has(m.id)) {
          // Its visibility ran out (or its delete failed) after it was invoked: delete it with
          // this receive's handle instead of invoking it again.
          counts.repeats++;
          again.push(m);
        } else if (!failed.has(m.id) && !inFlight.has(m.id)) {
          fresh.push(m);
        }
      }
      if (batch.length === 0) return;
      if (fresh.length === 0 && again.length === 0) {
        if (++stale >= STALE_RECEIVES) return;
        continue;
      }
      stale = 0;
      for (const m of fresh) {
        inFlight.add(m.id);
        if (!seen.has(m.id)) {
          seen.add(m.id);
          counts.received++;
          if (m.receiveCount > 1) counts.redelivered++;
        }
      }
      const outcomes = await Promise.all(fresh.map(one));
      const done: QueueMessage[] = [...again];
      fresh.forEach((m, i) => {
        inFlight.delete(m.id);
        if (outcomes[i]) {
          succeeded.set(m.id, false);
          counts.replayed++;
          done.push(m);
        } else {
          failed.add(m.id);
          counts.failed++;
        }
      });
      if (done.length > 0) {
        const notDeleted = new Set((await source.delete(done)).map((f) => f.id));
        for (const m of done) if (!notDeleted.has(m.id)) succeeded.set(m.id, true);
      }
      progress();
    }
  };

  await Promise.all(Array.from({ length: workers }, loop));
  const after = await source.counts();
  progress(true);
  let notDeleted = 0;
  for (const deleted of succeeded.values()) if (!deleted) notDeleted++;
  const result: ReplayResult = {
    ...counts,
    notDeleted,
    leftVisible: after.visible,
    leftInFlight: after.inFlight,
    elapsedMs: clock.now() - start,
  };
  if (stopped !== undefined) result.stopped = stopped;
  else if (options.signal?.aborted) result.stopped = 'interrupted';
  return result;
}
