/**
 * A stateful SQS stand-in on 127.0.0.1:0 for the real @aws-sdk/client-sqs (3.1164: AWS JSON 1.0,
 * `x-amz-target: AmazonSQS.<Operation>`), with a Lambda stand-in on the same port (REST-JSON
 * `POST /2015-03-31/functions/<name>/invocations`) that fails the events a test chooses.
 *
 * Queues keep their messages with the state SQS gives them: a visibility timeout per receive, a
 * new receipt handle per receive (only the latest one deletes, as SQS documents), a receive count
 * (`ApproximateReceiveCount`), and long polling (a receive with WaitTimeSeconds waits for a
 * message to become visible, at most `maxWaitMs` of real time so that a drained queue ends a test
 * quickly). Time comes from a manual clock when asked (`advance(ms)`), so a test makes messages
 * in flight visible again without waiting. test/client/invokers/fake-aws.ts answers statelessly;
 * this one is for replay, where the queue's state is what is tested.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

export interface FakeMessage {
  id: string;
  body: string;
  /** Order of arrival. */
  seq: number;
  /** Times received. */
  receiveCount: number;
  /** Clock ms at which it is visible again (0: visible). */
  visibleAt: number;
  /** The latest receipt handle (only it deletes). */
  handle?: string;
  deleted: boolean;
}

/** One call of the Lambda stand-in. */
export interface LambdaCall {
  function: string;
  body: string;
  ok: boolean;
}

export interface FakeSqsOptions {
  /** A manual clock starting at 0, moved by advance(); default the real clock. */
  manualClock?: boolean;
  /** Longest real wait of a long poll, ms (default 200). */
  maxWaitMs?: number;
  /** The queues' default visibility timeout, seconds (SQS's default 30). */
  visibilityTimeout?: number;
}

export interface FakeSqs {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL for both SQS and Lambda. */
  url: string;
  /** Creates a queue (or returns it) by ARN or `account/name`; returns its queue URL. */
  createQueue(arn: string): string;
  /** Enqueues bodies directly (test setup); returns their message ids. */
  send(arn: string, bodies: readonly string[]): string[];
  /** The messages not deleted, in arrival order. */
  messages(arn: string): FakeMessage[];
  /** Every message ever sent to the queue, deleted ones too, by id. */
  all(arn: string): Map<string, FakeMessage>;
  /** Requests per SQS operation. */
  calls: Map<string, number>;
  /** Every ReceiveMessage request body. */
  receives: Record<string, unknown>[];
  /** Every Lambda invocation, in arrival order. */
  lambdaCalls: LambdaCall[];
  /** Decides per Lambda event whether it fails (FunctionError Unhandled); default none fail. */
  failLambda(fails: (body: string, call: number) => boolean): void;
  /** Called at each Lambda invocation before it answers (e.g. to kill a process mid-way). */
  onLambda(hook: ((call: LambdaCall, n: number) => void) | undefined): void;
  now(): number;
  /** Moves the manual clock (and wakes long polls). */
  advance(ms: number): void;
  close(): Promise<void>;
}

interface Queue {
  messages: Map<string, FakeMessage>;
  /** Live (not deleted) messages in arrival order, compacted lazily. */
  order: FakeMessage[];
}

class SqsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** `account/name` of a queue ARN, URL or `account/name`. */
function queueKey(ref: string): string {
  if (ref.startsWith('arn:')) {
    const p = ref.split(':');
    return `${p[4]}/${p.slice(5).join(':')}`;
  }
  if (/^https?:\/\//.test(ref)) {
    const segs = new URL(ref).pathname.split('/').filter(Boolean);
    return segs.slice(-2).join('/');
  }
  return ref;
}

export async function startFakeSqs(options: FakeSqsOptions = {}): Promise<FakeSqs> {
  const maxWaitMs = options.maxWaitMs ?? 200;
  const defaultVisibility = options.visibilityTimeout ?? 30;
  let manual = 0;
  const now = options.manualClock ? () => manual : () => Date.now();
  const queues = new Map<string, Queue>();
  const calls = new Map<string, number>();
  const receives: Record<string, unknown>[] = [];
  const lambdaCalls: LambdaCall[] = [];
  let fails: (body: string, call: number) => boolean = () => false;
  let lambdaHook: ((call: LambdaCall, n: number) => void) | undefined;
  let seq = 0;
  /** Long polls waiting for a message: woken by a send, a visibility change or advance(). */
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  let base = '';

  const queue = (ref: string): Queue => {
    const q = queues.get(queueKey(ref));
    if (q === undefined) {
      throw new SqsFault('AWS.SimpleQueueService.NonExistentQueue', `The specified queue does not exist: ${ref}`);
    }
    return q;
  };
  const createQueue = (ref: string): string => {
    const key = queueKey(ref);
    if (!queues.has(key)) queues.set(key, { messages: new Map(), order: [] });
    return `${base}/${key}`;
  };
  const enqueue = (q: Queue, body: string): FakeMessage => {
    const m: FakeMessage = { id: randomUUID(), body, seq: ++seq, receiveCount: 0, visibleAt: 0, deleted: false };
    q.messages.set(m.id, m);
    q.order.push(m);
    return m;
  };
  const live = (q: Queue): FakeMessage[] => {
    if (q.order.some((m) => m.deleted)) q.order = q.order.filter((m) => !m.deleted);
    return q.order;
  };
  /** The message a receipt handle names, when it is the latest handle of a live message. */
  const byHandle = (q: Queue, handle: unknown): FakeMessage => {
    const id = typeof handle === 'string' ? handle.split('#')[0]! : '';
    const m = q.messages.get(id);
    if (m === undefined || m.handle !== handle) {
      throw new SqsFault('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle)}" is not valid.`);
    }
    return m;
  };
  const take = (q: Queue, max: number, visibility: number): FakeMessage[] => {
    const t = now();
    const out: FakeMessage[] = [];
    for (const m of live(q)) {
      if (out.length >= max) break;
      if (m.visibleAt > t) continue;
      m.receiveCount++;
      m.visibleAt = t + visibility * 1000;
      m.handle = `${m.id}#${m.receiveCount}#${randomUUID()}`;
      out.push(m);
    }
    return out;
  };

  async function sqs(operation: string, body: Record<string, unknown>): Promise<unknown> {
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    switch (operation) {
      case 'GetQueueUrl': {
        const key = `${String(body.QueueOwnerAWSAccountId ?? '')}/${String(body.QueueName)}`;
        const found = [...queues.keys()].find((k) => k === key || k.endsWith(`/${String(body.QueueName)}`));
        if (found === undefined) {
          throw new SqsFault('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
        }
        return { QueueUrl: `${base}/${found}` };
      }
      case 'SendMessage': {
        const q = queue(String(body.QueueUrl));
        const m = enqueue(q, String(body.MessageBody));
        wake();
        return { MessageId: m.id, MD5OfMessageBody: md5(m.body) };
      }
      case 'SendMessageBatch': {
        const q = queue(String(body.QueueUrl));
        const entries = body.Entries as { Id: string; MessageBody: string }[];
        const Successful = entries.map((e) => {
          const m = enqueue(q, e.MessageBody);
          return { Id: e.Id, MessageId: m.id, MD5OfMessageBody: md5(m.body) };
        });
        wake();
        return { Successful, Failed: [] };
      }
      case 'ReceiveMessage': {
        receives.push(body);
        const q = queue(String(body.QueueUrl));
        const max = Number(body.MaxNumberOfMessages ?? 1);
        if (!(max >= 1 && max <= 10)) throw new SqsFault('InvalidParameterValue', 'MaxNumberOfMessages must be 1-10');
        const visibility = Number(body.VisibilityTimeout ?? defaultVisibility);
        const waitMs = Math.min(Number(body.WaitTimeSeconds ?? 0) * 1000, maxWaitMs);
        let got = take(q, max, visibility);
        if (got.length === 0 && waitMs > 0) {
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            };
            const timer = setTimeout(done, waitMs);
            waiters.add(done);
          });
          got = take(q, max, visibility);
        }
        const names = [
          ...((body.AttributeNames as string[] | undefined) ?? []),
          ...((body.MessageSystemAttributeNames as string[] | undefined) ?? []),
        ];
        const all = names.includes('All');
        return {
          Messages: got.map((m) => ({
            MessageId: m.id,
            ReceiptHandle: m.handle,
            MD5OfBody: md5(m.body),
            Body: m.body,
            ...(names.length > 0
              ? {
                  Attributes: {
                    ...(all || names.includes('ApproximateReceiveCount')
                      ? { ApproximateReceiveCount: String(m.receiveCount) }
                      : {}),
                    ...(all || names.includes('SentTimestamp') ? { SentTimestamp: '0' } : {}),
                  },
                }
              : {}),
          })),
        };
      }
      case 'DeleteMessage': {
        const m = byHandle(queue(String(body.QueueUrl)), body.ReceiptHandle);
        m.deleted = true;
        return {};
      }
      case 'DeleteMessageBatch': {
        const q = queue(String(body.QueueUrl));
        const Successful: { Id: string }[] = [];
        const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
        for (const e of body.Entries as { Id: string; ReceiptHandle: string }[]) {
          try {
            byHandle(q, e.ReceiptHandle).deleted = true;
            Successful.push({ Id: e.Id });
          } catch (err) {
            const f = err as SqsFault;
            Failed.push({ Id: e.Id, SenderFault: true, Code: f.type, Message: f.message });
          }
        }
        return { Successful, Failed };
      }
      case 'ChangeMessageVisibility': {
        const m = byHandle(queue(String(body.QueueUrl)), body.ReceiptHandle);
        m.visibleAt = now() + Number(body.VisibilityTimeout) * 1000;
        wake();
        return {};
      }
      case 'ChangeMessageVisibilityBatch': {
        const q = queue(String(body.QueueUrl));
        const Successful: { Id: string }[] = [];
        const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
        for (const e of body.Entries as { Id: string; ReceiptHandle: string; VisibilityTimeout: number }[]) {
          try {
            byHandle(q, e.ReceiptHandle).visibleAt = now() + Number(e.VisibilityTimeout) * 1000;
            Successful.push({ Id: e.Id });
          } catch (err) {
            const f = err as SqsFault;
            Failed.push({ Id: e.Id, SenderFault: true, Code: f.type, Message: f.message });
          }
        }
        wake();
        return { Successful, Failed };
      }
      case 'GetQueueAttributes': {
        const q = queue(String(body.QueueUrl));
        const t = now();
        const msgs = live(q);
        const visible = msgs.filter((m) => m.visibleAt <= t).length;
        return {
          Attributes: {
            ApproximateNumberOfMessages: String(visible),
            ApproximateNumberOfMessagesNotVisible: String(msgs.length - visible),
            ApproximateNumberOfMessagesDelayed: '0',
            VisibilityTimeout: String(defaultVisibility),
          },
        };
      }
      default:
        throw new SqsFault('UnsupportedOperation', `fake SQS does not do ${operation}`);
    }
  }

  const reply = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, { 'x-amzn-requestid': randomUUID(), ...headers });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '';
      const fn = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(url);
      if (fn !== null) {
        const call: LambdaCall = { function: decodeURIComponent(fn[1]!), body: raw, ok: true };
        call.ok = !fails(raw, lambdaCalls.length);
        lambdaCalls.push(call);
        lambdaHook?.(call, lambdaCalls.length);
        if (call.ok) return reply(res, 200, { 'content-type': 'application/json' }, '{"ok":true}');
        return reply(
          res,
          200,
          { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' },
          JSON.stringify({ errorType: 'Error', errorMessage: 'injected failure' }),
        );
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const [prefix, operation = ''] = target.split('.');
      if (prefix !== 'AmazonSQS') return reply(res, 400, {}, `fake SQS: unknown request ${url} '${target}'`);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        return reply(res, 400, {}, 'fake SQS: body is not JSON');
      }
      sqs(operation, body).then(
        (out) => reply(res, 200, { 'content-type': 'application/x-amz-json-1.0' }, JSON.stringify(out)),
        (err: unknown) => {
          const f = err instanceof SqsFault ? err : new SqsFault('InternalError', String(err));
          reply(
            res,
            400,
            { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${f.type};Sender` },
            JSON.stringify({ __type: `com.amazonaws.sqs#${f.type}`, message: f.message }),
          );
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    createQueue,
    send(arn, bodies) {
      const q = queues.get(queueKey(arn)) ?? queue(createQueue(arn));
      const ids = bodies.map((b) => enqueue(q, b).id);
      wake();
      return ids;
    },
    messages: (arn) => [...live(queue(arn))],
    all: (arn) => queue(arn).messages,
    calls,
    receives,
    lambdaCalls,
    failLambda(f) {
      fails = f;
    },
    onLambda(hook) {
      lambdaHook = hook;
    },
    now,
    advance(ms) {
      manual += ms;
      wake();
    },
    close() {
      wake();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
