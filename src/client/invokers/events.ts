/** EventBridge targets: `arn:<partition>:events:<region>:<account>:event-bus/<name>` → PutEvents. */
import type { EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import { AwsInvoker } from './aws-clients.js';
import { InvokerError } from './errors.js';
import { type InvokeRequest, type InvokeResponse, parseArn, payloadText } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget } from './shared.js';

const FORM = 'arn:<partition>:events:<region>:<account>:event-bus/<name>';

/** Every event psarn puts carries this Source, so rules can match `{ "source": ["psarn"] }`. */
export const EVENT_SOURCE = 'psarn';

/**
 * EventBridge wants Detail to be a JSON object. A payload whose text is a JSON object goes as it
 * is (byte for byte); anything else (an array, a number, plain text) is wrapped as
 * `{"payload": <the JSON value, or the text as a string>}`.
 */
export function eventDetail(payload: unknown): string {
  const text = payloadText(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return JSON.stringify({ payload: text });
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return text;
  return JSON.stringify({ payload: value });
}

/**
 * Puts one event on a bus: Source `psarn`, DetailType the psARN's path (`orders/created`), so
 * rules can match on it. PutEvents answers 200 even when the entry failed; a failed entry rejects.
 */
export class EventsInvoker extends AwsInvoker {
  readonly service = 'events';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'events', /^event-bus\/[\w.\-/]+$/, FORM);
    const { EventBridgeClient, PutEventsCommand } = await loadSdk('events', target);
    const client = this.clients.client(
      'events',
      arn.region,
      (c) => new EventBridgeClient(c as EventBridgeClientConfig),
    );
    const entry = {
      EventBusName: target,
      Source: EVENT_SOURCE,
      DetailType: parseArn(request.psarn)?.resource || request.psarn,
      Detail: eventDetail(request.payload),
    };
    const command = new PutEventsCommand({ Entries: [entry] });
    const out = await awsCall('events', target, 'EventBridge PutEvents', request.timeoutMs, (o) =>
      client.send(command, o),
    );
    const result = out.Entries?.[0];
    if ((out.FailedEntryCount ?? 0) > 0 || result?.ErrorCode || !result?.EventId) {
      const why = result?.ErrorCode ? `${result.ErrorCode}: ${result.ErrorMessage ?? ''}` : 'no event id returned';
      throw new InvokerError('ERR_TARGET_REJECTED', `EventBridge PutEvents to '${target}' failed: ${why}`, {
        service: 'events',
        target,
      });
    }
    return { id: result.EventId };
  }
}
