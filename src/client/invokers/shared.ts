/** Helpers the built-in invokers share: target checks, the SDK call wrapper, body decoding. */
import { createHash } from 'node:crypto';
import { InvokerError } from './errors.js';
import { type ArnParts, parseArn } from './invoker.js';

/**
 * Parses `target` as an ARN of `service` whose resource matches `resource`; otherwise throws
 * ERR_INVALID_TARGET naming the expected form, so a bad route is reported, not sent.
 */
export function awsTarget(target: string, service: string, resource: RegExp, form: string): ArnParts {
  const arn = parseArn(target);
  if (arn?.service !== service || !resource.test(arn.resource) || arn.region === '' || arn.account === '') {
    throw new InvokerError('ERR_INVALID_TARGET', `invalid ${service} target '${target}': expected ${form}`, {
      service,
      target,
    });
  }
  return arn;
}

/** `send` options: an abort signal when the caller set a timeout; otherwise the SDK's own timeouts apply. */
export interface SendOptions {
  abortSignal?: AbortSignal;
}

/**
 * Runs one SDK call and turns whatever it throws (service exception, network error, timeout, the
 * SQS body MD5 check) into ERR_TARGET_FAILED with the original as `cause`.
 */
export async function awsCall<T>(
  service: string,
  target: string,
  operation: string,
  timeoutMs: number | undefined,
  call: (options: SendOptions) => Promise<T>,
): Promise<T> {
  try {
    return await call(timeoutMs === undefined ? {} : { abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new InvokerError('ERR_TARGET_FAILED', `${operation} to '${target}' failed: ${errorText(error)}`, {
      service,
      target,
      cause: error,
    });
  }
}

/**
 * A returned body: undefined when empty, the JSON value when it parses, else the text. (The SDK
 * gives Lambda's empty Event-invocation payload as null, despite its type.)
 */
export function decodeBody(bytes: Uint8Array | null | undefined): unknown {
  if (bytes == null || bytes.length === 0) return undefined;
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `name: message` of an error, or its text. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message ? `${error.name}: ${error.message}` : error.name;
  return String(error);
}

/**
 * MessageGroupId and MessageDeduplicationId for FIFO queues and topics. The group is the psARN
 * (events to one psARN stay ordered; hashed when past the 128-character limit); the
 * deduplication id is the SHA-256 of the body, i.e. content-based deduplication: the same body
 * sent twice within SQS's 5-minute window is delivered once. Put a unique id in the payload when
 * repeats are distinct events.
 */
export function fifoIds(psarn: string, body: string): { MessageGroupId: string; MessageDeduplicationId: string } {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  return { MessageGroupId: psarn.length <= 128 ? psarn : sha256(psarn), MessageDeduplicationId: sha256(body) };
}
