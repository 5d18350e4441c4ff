/**
 * A fake of just enough AWS, on 127.0.0.1:0, for the real SDK clients (3.1164) to talk to:
 * Lambda (REST-JSON `POST /2015-03-31/functions/<name>/invocations`), SQS (AWS JSON 1.0,
 * `x-amz-target: AmazonSQS.*`), SNS (AWS Query: form-encoded request, XML answer), EventBridge
 * (AWS JSON 1.1, `AWSEvents.*`), Step Functions (AWS JSON 1.0, `AWSStepFunctions.*`), DynamoDB
 * (AWS JSON 1.0, `DynamoDB_20120810.*`, SDK 3.1164), Kinesis (AWS JSON 1.1, `Kinesis_20131202.*`:
 * client-kinesis 3.1143 speaks JSON 1.1, not CBOR) and Firehose (AWS JSON 1.1, `Firehose_20150804.*`).
 * It records every request and answers success, or what a test configured.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeService = 'lambda' | 'sqs' | 'sns' | 'events' | 'states' | 'dynamodb' | 'kinesis' | 'firehose';

export interface FakeRequest {
  service: FakeService;
  operation: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  raw: string;
  /** JSON protocols: the parsed JSON; SNS: the form fields; Lambda: the raw text. */
  body: unknown;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** `hang` answers nothing (for timeouts); otherwise a reply. */
export type Responder = (request: FakeRequest) => Reply | 'hang';

export interface FakeAws {
  /** `http://127.0.0.1:<port>`, for the clients' `endpoint`. */
  url: string;
  requests: FakeRequest[];
  /** The last request to a service (fails the test when there is none). */
  last(service: FakeService): FakeRequest;
  /** Replaces the default answer of a service until reset(). */
  respond(service: FakeService, responder: Responder): void;
  /** Makes a service answer its protocol's form of an error (HTTP 400 unless told). */
  refuse(service: FakeService, code: string, message: string, status?: number): void;
  reset(): void;
  close(): Promise<void>;
}

export const md5 = (text: string) => createHash('md5').update(text).digest('hex');

const json10 = 'application/x-amz-json-1.0';
const json11 = 'application/x-amz-json-1.1';

/** The answer a real service gives when it accepted the request. */
function success(request: FakeRequest, n: number): Reply {
  const body = request.body as Record<string, unknown>;
  switch (request.service) {
    case 'lambda': {
      const event = request.headers['x-amz-invocation-type'] === 'Event';
      return event ? { status: 202 } : { status: 200, body: JSON.stringify({ ok: true, n }) };
    }
    case 'sqs':
      return json(json10, { MessageId: `msg-${n}`, MD5OfMessageBody: md5(String(body.MessageBody)) });
    case 'sns':
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>sns-${n}</MessageId></PublishResult><ResponseMetadata><RequestId>req-${n}</RequestId></ResponseMetadata></PublishResponse>`,
      };
    case 'events':
      return json(json11, { FailedEntryCount: 0, Entries: [{ EventId: `evt-${n}` }] });
    case 'states':
      return json(json10, { executionArn: `${String(body.stateMachineArn)}:exec-${n}`, startDate: 1700000000 });
    case 'dynamodb':
      return json(json10, {});
    case 'kinesis':
      return json(json11, { ShardId: 'shardId-000000000000', SequenceNumber: `4960000000000000000000000000${n}` });
    case 'firehose':
      return json(json11, { RecordId: `rec-${n}`, Encrypted: false });
  }
}

/** The same service's error shape: x-amzn-errortype for REST-JSON, __type for JSON, ErrorResponse XML for Query. */
function failure(service: FakeService, code: string, message: string, status: number): Reply {
  switch (service) {
    case 'lambda':
      return {
        status,
        headers: { 'x-amzn-errortype': code, 'content-type': 'application/json' },
        body: JSON.stringify({ Type: 'User', message }),
      };
    case 'sns':
      return {
        status,
        headers: { 'content-type': 'text/xml' },
        body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-err</RequestId></ErrorResponse>`,
      };
    default:
      return { ...json(JSON11.has(service) ? json11 : json10, { __type: code, message }), status };
  }
}

const JSON11: ReadonlySet<FakeService> = new Set(['events', 'kinesis', 'firehose']);

function json(contentType: string, value: unknown): Reply {
  return { status: 200, headers: { 'content-type': contentType }, body: JSON.stringify(value) };
}

/** Which service and operation a request is, from its path, x-amz-target or form Action. */
function classify(
  url: string,
  headers: IncomingHttpHeaders,
  raw: string,
): Omit<FakeRequest, 'url' | 'headers' | 'raw'> {
  if (url.startsWith('/2015-03-31/functions/')) return { service: 'lambda', operation: 'Invoke', body: raw };
  const target = String(headers['x-amz-target'] ?? '');
  const [prefix, operation = ''] = target.split('.');
  const parsed = (): unknown => JSON.parse(raw);
  if (prefix === 'AmazonSQS') return { service: 'sqs', operation, body: parsed() };
  if (prefix === 'AWSEvents') return { service: 'events', operation, body: parsed() };
  if (prefix === 'AWSStepFunctions') return { service: 'states', operation, body: parsed() };
  if (prefix === 'DynamoDB_20120810') return { service: 'dynamodb', operation, body: parsed() };
  if (prefix === 'Kinesis_20131202') return { service: 'kinesis', operation, body: parsed() };
  if (prefix === 'Firehose_20150804') return { service: 'firehose', operation, body: parsed() };
  const form = Object.fromEntries(new URLSearchParams(raw));
  if (form.Action) return { service: 'sns', operation: form.Action, body: form };
  throw new Error(`fake AWS: cannot tell the service of ${url} (x-amz-target '${target}')`);
}

export async function startFakeAws(): Promise<FakeAws> {
  const requests: FakeRequest[] = [];
  const responders = new Map<FakeService, Responder>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let reply: Reply | 'hang';
      try {
        const raw = Buffer.concat(chunks).toString('utf8');
        const request = { url: req.url ?? '', headers: req.headers, raw, ...classify(req.url ?? '', req.headers, raw) };
        requests.push(request);
        reply = responders.get(request.service)?.(request) ?? success(request, requests.length);
      } catch (error) {
        reply = { status: 500, body: String(error) };
      }
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, { 'x-amzn-requestid': 'fake-request-id', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    last(service) {
      const found = requests.filter((r) => r.service === service).at(-1);
      if (found === undefined) throw new Error(`fake AWS: no ${service} request received`);
      return found;
    },
    respond: (service, responder) => void responders.set(service, responder),
    refuse: (service, code, message, status = 400) =>
      void responders.set(service, () => failure(service, code, message, status)),
    reset() {
      requests.length = 0;
      responders.clear();
    },
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A DynamoDB item as the wire JSON carries it (B base64), back to plain values: N as number, B as Buffer. */
export function unmarshalItem(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, unmarshalValue(v as Record<string, unknown>)]));
}

function unmarshalValue(value: Record<string, unknown>): unknown {
  const [type, v] = Object.entries(value)[0] as [string, unknown];
  switch (type) {
    case 'S':
      return v;
    case 'N':
      return Number(v);
    case 'BOOL':
      return v;
    case 'NULL':
      return null;
    case 'B':
      return Buffer.from(String(v), 'base64');
    case 'L':
      return (v as Record<string, unknown>[]).map(unmarshalValue);
    case 'M':
      return unmarshalItem(v as Record<string, unknown>);
    default:
      throw new Error(`fake AWS: attribute type ${type} is not one psarn writes`);
  }
}

/** A base64 Data field (Kinesis, Firehose) as text. */
export const dataText = (data: unknown): string => Buffer.from(String(data), 'base64').toString('utf8');
