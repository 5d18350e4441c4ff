/**
 * One `release --replay` run (docs/design.md#hold-and-release): the hold queue through the SQS
 * API, each message through the restored route with the client library (PsarnClient resolving
 * the route from psarnd, as every caller does), at most `rate` a second.
 *
 * A replay must never send a message back into the hold queue (it would be "delivered" and
 * deleted, then received again, for ever): the route is checked before each receive, and a
 * route whose targets include the queue stops the run. Right after the release psarnd may
 * still serve the held route for its poll interval, so the first check waits for the restored
 * one, `settleMs` at most.
 */
import { PsarnClient, type PsarnClientOptions } from '../client/client.js';
import type { ServerAddress } from '../client/transport.js';
import type { Route } from '../client/types.js';
import { type ReplayProgress, type ReplayResult, replay } from './replay.js';
import type { SleepClock } from './replay-rate.js';
import { sqsSource } from './replay-sqs.js';

export interface ReplayRunInput {
  psarn: string;
  /** The hold queue's ARN. */
  queue: string;
  servers: ServerAddress[];
  namespace: string;
  epochTtl: number;
  clock: SleepClock;
  rate?: number;
  /** Config for the SQS client and the invokers' AWS clients; default the SDK's own (environment). */
  awsClientConfig?: Record<string, unknown>;
  /** More PsarnClient options (tests: invokers). */
  client?: Partial<PsarnClientOptions>;
  workers?: number;
  waitSeconds?: number;
  /** How long to wait for psarnd to serve the restored route (default 10000 ms). */
  settleMs?: number;
  onProgress?(p: ReplayProgress): void;
  signal?: AbortSignal;
}

/** Why `route` must not be replayed into, or undefined. */
function heldAgain(route: Route, queue: string): string | undefined {
  return route.targets.some((t) => t.target === queue)
    ? `${route.psarn} sends to the hold queue ${queue} (held again, or psarnd still serves the held route)`
    : undefined;
}

export async function runReplay(input: ReplayRunInput): Promise<ReplayResult> {
  const options = (): PsarnClientOptions => ({
    servers: input.servers,
    namespace: input.namespace,
    epochTtl: input.epochTtl,
    ...(input.awsClientConfig !== undefined ? { awsClientConfig: input.awsClientConfig } : {}),
    ...input.client,
  });
  // A fresh client per try: the one that saw the held route would keep it cached for its TTL.
  const deadline = input.clock.now() + (input.settleMs ?? 10_000);
  let client = new PsarnClient(options());
  for (;;) {
    let route: Route;
    try {
      route = await client.resolve(input.psarn);
    } catch (err) {
      return stoppedBeforeStart(`cannot resolve ${input.psarn}: ${(err as Error).message}`);
    }
    const held = heldAgain(route, input.queue);
    if (held === undefined) break;
    if (input.clock.now() >= deadline) return stoppedBeforeStart(held);
    await input.clock.sleep(250);
    client = new PsarnClient(options());
  }
  const source = await sqsSource(input.queue, input.awsClientConfig);
  try {
    return await replay({
      source,
      clock: input.clock,
      ...(input.rate !== undefined ? { rate: input.rate } : {}),
      ...(input.workers !== undefined ? { workers: input.workers } : {}),
      ...(input.waitSeconds !== undefined ? { waitSeconds: input.waitSeconds } : {}),
      ...(input.onProgress !== undefined ? { onProgress: input.onProgress } : {}),
      ...(input.signal !== undefined ? { signal: input.signal } : {}),
      invoke: async (payload) => {
        await client.invoke(input.psarn, payload);
      },
      guard: async () => {
        try {
          return heldAgain(await client.resolve(input.psarn), input.queue);
        } catch (err) {
          return `cannot resolve ${input.psarn}: ${(err as Error).message}`;
        }
      },
    });
  } finally {
    source.close();
  }
}

function stoppedBeforeStart(stopped: string): ReplayResult {
  return {
    received: 0,
    replayed: 0,
    failed: 0,
    notDeleted: 0,
    redelivered: 0,
    repeats: 0,
    leftVisible: -1,
    leftInFlight: -1,
    elapsedMs: 0,
    stopped,
  };
}
