/** Lambda targets: `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]` → Invoke. */
import type { LambdaClientConfig } from '@aws-sdk/client-lambda';
import { AwsInvoker } from './aws-clients.js';
import { InvokerError } from './errors.js';
import { type InvokeRequest, type InvokeResponse, payloadBytes } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget, decodeBody } from './shared.js';

const FORM = 'arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]';

/**
 * Invokes a Lambda function: RequestResponse by default (resolves with the function's result),
 * Event when asked (resolves once Lambda queued it, status 202).
 * @example
 * const lambda = new LambdaInvoker();
 * await lambda.invoke({ target: 'arn:aws:lambda:us-east-1:123456789012:function:f', payload: { id: 1 }, psarn });
 */
export class LambdaInvoker extends AwsInvoker {
  readonly service = 'lambda';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'lambda', /^function:[^:]+(:[^:]+)?$/, FORM);
    const { InvokeCommand, LambdaClient } = await loadSdk('lambda', target);
    const client = this.clients.client('lambda', arn.region, (c) => new LambdaClient(c as LambdaClientConfig));
    // The full ARN (qualifier included) is a valid FunctionName and keeps account and region exact.
    const command = new InvokeCommand({
      FunctionName: target,
      Payload: payloadBytes(request.payload),
      InvocationType: request.invocationType ?? 'RequestResponse',
    });
    const out = await awsCall('lambda', target, 'Lambda Invoke', request.timeoutMs, (o) => client.send(command, o));
    const body = decodeBody(out.Payload);
    // A function that threw still answers HTTP 200; only FunctionError says it failed.
    if (out.FunctionError) {
      const detail = functionErrorMessage(body);
      throw new InvokerError(
        'ERR_TARGET_REJECTED',
        `Lambda function '${target}' failed (${out.FunctionError})${detail ? `: ${detail}` : ''}`,
        { service: 'lambda', target, statusCode: out.StatusCode },
      );
    }
    return { statusCode: out.StatusCode, body };
  }
}

/** Lambda's error payload is `{ errorType, errorMessage, trace }`; fall back to the text itself. */
function functionErrorMessage(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body !== null && typeof body === 'object') {
    const { errorType, errorMessage } = body as { errorType?: unknown; errorMessage?: unknown };
    if (typeof errorMessage === 'string')
      return typeof errorType === 'string' ? `${errorType}: ${errorMessage}` : errorMessage;
    return JSON.stringify(body);
  }
  return '';
}
