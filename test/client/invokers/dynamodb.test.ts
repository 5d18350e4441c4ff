/** DynamoDbInvoker: the event → item mapping (docs/client.md#dynamodb-items), and PutItem through the real SDK against the fake. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DynamoDbInvoker } from '../../../src/client/invokers/dynamodb.js';
import { eventItem } from '../../../src/client/invokers/dynamodb-item.js';
import { InvokerError } from '../../../src/client/invokers/errors.js';
import { PSARN } from './contract.js';
import { localSdkConfig, useFakeAws } from './local-sdk.js';

const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/orders';
const item = (payload: unknown) => eventItem(payload, TABLE);

/** Asserts that `payload` is refused with ERR_INVALID_PAYLOAD and a message matching `why`. */
function refused(payload: unknown, why: RegExp): void {
  assert.throws(
    () => item(payload),
    (error: unknown) => {
      assert.ok(error instanceof InvokerError);
      assert.equal(error.code, 'ERR_INVALID_PAYLOAD');
      assert.equal(error.service, 'dynamodb');
      assert.equal(error.target, TABLE);
      assert.match(error.message, why);
      return true;
    },
  );
}

describe('eventItem', () => {
  it('maps each JSON type, bytes and bigint to its attribute type', () => {
    const bytes = new Uint8Array([0, 1, 254, 255]);
    assert.deepEqual(
      item({
        pk: 'order#42',
        total: 9.5,
        count: -3,
        tiny: 1e-7,
        big: 12345678901234567890123n,
        paid: true,
        note: null,
        blob: bytes,
        items: ['a', 1, false, null, undefined, [2]],
        address: { city: 'Köln', zip: '50667', lines: [] },
        empty: {},
        text: '',
        gone: undefined,
      }),
      {
        pk: { S: 'order#42' },
        total: { N: '9.5' },
        count: { N: '-3' },
        tiny: { N: '1e-7' },
        big: { N: '12345678901234567890123' },
        paid: { BOOL: true },
        note: { NULL: true },
        blob: { B: bytes },
        items: { L: [{ S: 'a' }, { N: '1' }, { BOOL: false }, { NULL: true }, { NULL: true }, { L: [{ N: '2' }] }] },
        address: { M: { city: { S: 'Köln' }, zip: { S: '50667' }, lines: { L: [] } } },
        empty: { M: {} },
        text: { S: '' },
      },
    );
  });

  it('keeps bytes as bytes (a Buffer too), not their JSON', () => {
    const buffer = Buffer.from('hi');
    assert.deepEqual(item({ b: buffer }).b, { B: buffer });
  });

  it('maps a Date (and any object with toJSON) to what JSON would send: its ISO text', () => {
    assert.deepEqual(item({ at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) }).at, { S: '2026-01-02T03:04:05.000Z' });
    assert.deepEqual(item({ money: { toJSON: () => ({ cents: 950 }) } }).money, { M: { cents: { N: '950' } } });
    assert.deepEqual(item({ at: new Date(Number.NaN) }).at, { NULL: true }); // JSON's null for an invalid date
  });

  it('takes JSON text (a string or its bytes) of an object as the item', () => {
    const want = { pk: { S: 'a' }, n: { N: '1' } };
    assert.deepEqual(item(' { "pk": "a", "n": 1 } '), want);
    assert.deepEqual(item(new TextEncoder().encode('{"pk":"a","n":1}')), want);
  });

  it('refuses a payload that is not an object: it could not hold the key attributes', () => {
    refused([1, 2], /the payload is an array, not an object/);
    refused(42, /the payload is a number/);
    refused(null, /the payload is null/);
    refused(true, /the payload is a boolean/);
    refused('[1,2]', /the payload is an array/);
    refused('"text"', /the payload is a string/);
    refused('not json', /not JSON/);
    refused(new Map([['pk', 'a']]), /the payload is a Map/);
  });

  it('refuses values JSON would silently change or lose, naming the attribute', () => {
    refused({ a: { b: [1, Number.NaN] } }, /attribute a\.b\[1\] is NaN/);
    refused({ x: Number.POSITIVE_INFINITY }, /attribute x is Infinity/);
    refused({ f: () => 1 }, /attribute f is a function/);
    refused({ s: Symbol('s') }, /attribute s is a symbol/);
    refused({ m: new Map() }, /attribute m is a Map, which JSON would flatten/);
    refused({ s: new Set([1]) }, /attribute s is a Set/);
    class Order {
      id = 1;
    }
    refused({ o: new Order() }, /attribute o is an Order/);
  });

  it('refuses nesting deeper than 32 levels, and so a cycle', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { d: deep };
    refused(deep, /nested deeper than DynamoDB's 32 levels/);
    const cycle: Record<string, unknown> = { pk: 'a' };
    cycle.self = cycle;
    refused(cycle, /attribute self\.self\.self.* is nested deeper/);
    let ok: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 30; i++) ok = { d: ok };
    assert.ok(item(ok).d);
  });
});

describe('DynamoDbInvoker (real SDK, fake DynamoDB)', () => {
  const aws = useFakeAws();
  const dynamodb = () => new DynamoDbInvoker({ clients: aws.clients() });

  it('sends PutItem with the table ARN as TableName and the item in DynamoDB JSON', async () => {
    const response = await dynamodb().invoke({
      target: TABLE,
      payload: { pk: 'order#1', total: 12.25, raw: new Uint8Array([1, 2, 3]), tags: ['x'] },
      psarn: PSARN,
    });
    assert.deepEqual(response, {});
    const request = aws.fake.last('dynamodb');
    assert.equal(request.headers['x-amz-target'], 'DynamoDB_20120810.PutItem');
    assert.equal(request.headers['content-type'], 'application/x-amz-json-1.0');
    assert.deepEqual(request.body, {
      TableName: TABLE,
      Item: {
        pk: { S: 'order#1' },
        total: { N: '12.25' },
        raw: { B: 'AQID' },
        tags: { L: [{ S: 'x' }] },
      },
    });
  });

  it('sends nothing when the event cannot be an item', async () => {
    await assert.rejects(dynamodb().invoke({ target: TABLE, payload: [1], psarn: PSARN }), {
      code: 'ERR_INVALID_PAYLOAD',
    });
    assert.equal(aws.fake.requests.length, 0);
  });

  it('refuses targets that are not a table, and wraps what DynamoDB refuses', async () => {
    for (const target of [
      'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
      'arn:aws:dynamodb:us-east-1:123456789012:table/ab',
      'arn:aws:dynamodb:us-east-1:123456789012:global-table/orders',
    ]) {
      await assert.rejects(dynamodb().invoke({ target, payload: { pk: 'a' }, psarn: PSARN }), {
        code: 'ERR_INVALID_TARGET',
        message: /expected arn:<partition>:dynamodb:<region>:<account>:table\/<name>/,
      });
    }
    aws.fake.refuse(
      'dynamodb',
      'com.amazonaws.dynamodb.v20120810#ValidationException',
      'One of the required keys was not given a value',
    );
    await assert.rejects(
      dynamodb().invoke({ target: TABLE, payload: { other: 1 }, psarn: PSARN }),
      (error: unknown) => {
        assert.ok(error instanceof InvokerError);
        assert.equal(error.code, 'ERR_TARGET_FAILED');
        assert.equal((error.cause as Error).name, 'ValidationException');
        assert.match(error.message, /required keys/);
        return true;
      },
    );
  });

  describe('with the endpoint from AWS_ENDPOINT_URL_DYNAMODB (no endpoint in the config)', () => {
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    afterEach(() => {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      else process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    });

    it('sends to the env endpoint', async () => {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = aws.fake.url;
      const invoker = new DynamoDbInvoker({ clients: aws.clients(localSdkConfig()) });
      await invoker.invoke({ target: TABLE, payload: { pk: 'via env' }, psarn: PSARN, timeoutMs: 5000 });
      assert.deepEqual((aws.fake.last('dynamodb').body as { Item: unknown }).Item, { pk: { S: 'via env' } });
    });
  });
});
