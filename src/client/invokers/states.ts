/** Step Functions targets: `arn:<partition>:states:<region>:<account>:stateMachine:<name>` → StartExecution. */
import type { SFNClientConfig } from '@aws-sdk/client-sfn';
import { AwsInvoker } from './aws-clients.js';
import { type InvokeRequest, type InvokeResponse, payloadText } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget } from './shared.js';

const FORM = 'arn:<partition>:states:<region>:<account>:stateMachine:<name>[:<version or alias>]';

/**
 * Starts one execution with the payload text as its input (Step Functions requires JSON there;
 * a non-JSON string is refused by the service). Resolves with the execution ARN; it does not wait
 * for the execution to finish.
 */
export class StatesInvoker extends AwsInvoker {
  readonly service = 'states';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'states', /^stateMachine:[^:]+(:[^:]+)?$/, FORM);
    const { SFNClient, StartExecutionCommand } = await loadSdk('states', target);
    const client = this.clients.client('states', arn.region, (c) => new SFNClient(c as SFNClientConfig));
    const command = new StartExecutionCommand({ stateMachineArn: target, input: payloadText(request.payload) });
    const out = await awsCall('states', target, 'Step Functions StartExecution', request.timeoutMs, (o) =>
      client.send(command, o),
    );
    return { id: out.executionArn };
  }
}
