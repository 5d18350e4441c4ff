/** DynamoDB targets: `arn:<partition>:dynamodb:<region>:<account>:table/<name>` → PutItem of the event. */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { AwsInvoker } from './aws-clients.js';
import { eventItem } from './dynamodb-item.js';
import type { InvokeRequest, InvokeResponse } from './invoker.js';
import { loadSdk } from './sdk.js';
import { awsCall, awsTarget } from './shared.js';

const FORM = 'arn:<partition>:dynamodb:<region>:<account>:table/<name>';

/**
 * Writes the event as one item (the mapping is eventItem's, docs/client.md#dynamodb-items). The
 * item must carry the table's key attributes with their types, or DynamoDB refuses it
 * (ValidationException → ERR_TARGET_FAILED). PutItem replaces an item with the same key, so an
 * event delivered twice (a retry, a replay) writes the same item twice: idempotent, as
 * at-least-once delivery needs. TableName is the table's ARN, not its name, so the write goes to
 * the account the route names (a table shared by a resource policy), not to a same-named table
 * of the caller's account.
 * @example
 * await new DynamoDbInvoker().invoke({ target: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', payload: { pk: 'o#1', total: 9.5 }, psarn });
 */
export class DynamoDbInvoker extends AwsInvoker {
  readonly service = 'dynamodb';
  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const { target } = request;
    const arn = awsTarget(target, 'dynamodb', /^table\/[\w.-]{3,255}$/, FORM);
    const item = eventItem(request.payload, target); // before the SDK loads: a bad event costs nothing
    const { DynamoDBClient, PutItemCommand } = await loadSdk('dynamodb', target);
    const client = this.clients.client('dynamodb', arn.region, (c) => new DynamoDBClient(c as DynamoDBClientConfig));
    const command = new PutItemCommand({ TableName: target, Item: item });
    await awsCall('dynamodb', target, 'DynamoDB PutItem', request.timeoutMs, (o) => client.send(command, o));
    return {};
  }
}
