/**
 * One interface, several implementations (Lambda, SQS, SNS, EventBridge, Step Functions,
 * HTTPS, and the caller's own), one shared contract test (test/client/invokers/contract.ts).
 */

export interface InvokeRequest {
  /** The target string from the route: an ARN or an https:// URL. */
  target: string;
  /** The event. Strings and Uint8Arrays are sent as they are; anything else as JSON. */
  payload: unknown;
  /** The psARN the event was sent to (for EventBridge DetailType, logs). */
  psarn: string;
  /** Lambda: RequestResponse (default) waits for the function; Event queues it. */
  invocationType?: 'RequestResponse' | 'Event';
  /** Abort after this many ms (default per invoker, e.g. 10000 for https). */
  timeoutMs?: number;
  /** The caller's sticky key, when it gave one (Kinesis: the PartitionKey). */
  key?: string;
}

/** What a target said when it accepted the event. */
export interface InvokeResponse {
  /** Service's id for what was accepted: SQS/SNS MessageId, EventBridge event id, execution ARN. */
  id?: string;
  /** HTTP status for https; Lambda StatusCode. */
  statusCode?: number;
  /** Lambda's returned payload (decoded as JSON when it parses, else text); https body likewise. */
  body?: unknown;
}

export interface Invoker {
  /** Short name, used as a metric label: lambda, sqs, sns, events, states, https, or the caller's. */
  readonly service: string;
  /** True when this invoker handles the target (e.g. `arn:*:lambda:*`). */
  canInvoke(target: string): boolean;
  /** Resolves when the target accepted the event; rejects with an Error saying why not. */
  invoke(request: InvokeRequest): Promise<InvokeResponse>;
}

/** Serialises a payload: strings and bytes as they are, anything else as JSON. */
export function payloadBytes(payload: unknown): Uint8Array {
  if (typeof payload === 'string') return new TextEncoder().encode(payload);
  if (payload instanceof Uint8Array) return payload;
  return new TextEncoder().encode(JSON.stringify(payload ?? null));
}

/** The same, as text (for SQS MessageBody, SNS Message, EventBridge Detail, Step Functions input). */
export function payloadText(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (payload instanceof Uint8Array) return new TextDecoder().decode(payload);
  return JSON.stringify(payload ?? null);
}

/** The parts of an ARN (`arn:partition:service:region:account:resource`), or undefined. */
export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(target: string): ArnParts | undefined {
  if (!target.startsWith('arn:')) return undefined;
  const parts = target.split(':');
  if (parts.length < 6) return undefined;
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}
