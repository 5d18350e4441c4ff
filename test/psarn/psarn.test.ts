import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPsarn, isPsarn, PsarnError, parsePsarn } from '../../src/psarn/index.js';

const A = 'arn:aws:psarn:us-east-1:123456789012';

describe('parsePsarn', () => {
  it('parses the design example into canonical lowercase', () => {
    assert.deepEqual(parsePsarn(`${A}:orders/created`), {
      partition: 'aws',
      region: 'us-east-1',
      account: '123456789012',
      path: ['orders', 'created'],
    });
    assert.deepEqual(parsePsarn('ARN:AWS-US-GOV:PSARN:US-GOV-WEST-1:123456789012:Orders/Created_V2'), {
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      account: '123456789012',
      path: ['orders', 'created_v2'],
    });
  });

  it('accepts the grammar edges: 8 segments, 63-character segments, trailing - and _', () => {
    const seg63 = `a${'b'.repeat(62)}`;
    assert.deepEqual(parsePsarn(`${A}:${seg63}`).path, [seg63]);
    assert.equal(parsePsarn(`${A}:a/b/c/d/e/f/g/h`).path.length, 8);
    assert.deepEqual(parsePsarn(`${A}:0-/9_`).path, ['0-', '9_']);
    assert.equal(parsePsarn(`arn:a${'b'.repeat(30)}:psarn:${'r'.repeat(30)}:123456789012:x`).partition.length, 31);
  });

  const long = `arn:aws:psarn:us-east-1:123456789012:${'x'.repeat(64)}`;
  const invalid: [string, string][] = [
    ['', "must start with 'arn:'; write arn:PARTITION:psarn:REGION:ACCOUNT:PATH"],
    ['aws:psarn:us-east-1:123456789012:a', "must start with 'arn:'; write arn:PARTITION:psarn:REGION:ACCOUNT:PATH"],
    [
      'arn:aws:lambda:us-east-1:123456789012:function:f',
      "service is 'lambda', not 'psarn'; write arn:PARTITION:psarn:REGION:ACCOUNT:PATH",
    ],
    [
      'arn:aws:psarn:us-east-1:123456789012',
      "has 5 ':'-separated parts, needs 6: arn:PARTITION:psarn:REGION:ACCOUNT:PATH",
    ],
    [
      `${A}:orders:created`,
      "has 7 ':'-separated parts, needs 6: arn:PARTITION:psarn:REGION:ACCOUNT:PATH (separate path segments with /, not :)",
    ],
    [
      'arn::psarn:us-east-1:123456789012:a',
      'partition is empty; use a letter then up to 30 letters, digits or - (e.g. aws)',
    ],
    [
      'arn:1aws:psarn:us-east-1:123456789012:a',
      "partition '1aws' is invalid; use a letter then up to 30 letters, digits or - (e.g. aws)",
    ],
    [
      `arn:a${'b'.repeat(31)}:psarn:us-east-1:123456789012:a`,
      `partition 'a${'b'.repeat(31)}' is invalid; use a letter then up to 30 letters, digits or - (e.g. aws)`,
    ],
    ['arn:aws:psarn::123456789012:a', 'region is empty; use 1 to 30 letters, digits or - (e.g. us-east-1)'],
    [
      'arn:aws:psarn:us_east_1:123456789012:a',
      "region 'us_east_1' is invalid; use 1 to 30 letters, digits or - (e.g. us-east-1)",
    ],
    [
      'arn:aws:psarn:us-east-1:12345678901:a',
      "account '12345678901' is invalid; use the 12-digit account id (e.g. 123456789012)",
    ],
    [
      'arn:aws:psarn:us-east-1:1234567890123:a',
      "account '1234567890123' is invalid; use the 12-digit account id (e.g. 123456789012)",
    ],
    [
      'arn:aws:psarn:us-east-1:12345678901a:a',
      "account '12345678901a' is invalid; use the 12-digit account id (e.g. 123456789012)",
    ],
    [`${A}:`, 'path is empty; give 1 to 8 segments separated by /'],
    [`${A}:a/b/c/d/e/f/g/h/i`, 'path has 9 segments; use at most 8'],
    [`${A}:a//b`, "segment 2 is empty; remove the extra '/'"],
    [`${A}:a/`, "segment 2 is empty; remove the extra '/'"],
    [`${A}:/a`, "segment 1 is empty; remove the extra '/'"],
    [long, 'segment 1 is 64 characters; use at most 63'],
    [`${A}:_epoch`, "segment 1 starts with '_', which is reserved (e.g. _epoch); start with a letter or digit"],
    [`${A}:a/-b`, "segment 2 starts with '-'; start with a letter or digit"],
    [`${A}:a/b/c.d`, "segment 3 has '.'; use letters, digits, - or _"],
    [`${A}:a b`, "segment 1 has ' '; use letters, digits, - or _"],
    [`${A}:café`, "segment 1 has 'é'; use letters, digits, - or _"],
    [`${A}:a\nb`, 'segment 1 has control character \\x0a; use letters, digits, - or _'],
    [`${A}:a*`, "segment 1 has '*'; use letters, digits, - or _"],
  ];
  for (const [input, problem] of invalid) {
    it(`rejects ${JSON.stringify(input.length > 70 ? `${input.slice(0, 70)}...` : input)}`, () => {
      const shown = input.replace(/\n/g, '\\x0a');
      assert.throws(
        () => parsePsarn(input),
        (err: unknown) => {
          assert.ok(err instanceof PsarnError);
          assert.equal(err.code, 'ERR_INVALID_PSARN');
          assert.equal(err.input, input);
          assert.equal(err.message, `invalid psARN '${shown}': ${problem}`);
          return true;
        },
      );
      assert.equal(isPsarn(input), false);
    });
  }

  it('shortens a huge input in the message: 256 characters, then its size', () => {
    const input = `${A}:${'a/'.repeat(5000)}`;
    assert.throws(
      () => parsePsarn(input),
      (err: Error) => {
        const shown = input.slice(0, 256);
        assert.equal(
          err.message,
          `invalid psARN '${shown}…' (${input.length} bytes): path has 5001 segments; use at most 8`,
        );
        return true;
      },
    );
  });

  it('shows a huge part of a psARN cut, not whole (a 1 MB service name)', () => {
    const service = 'x'.repeat(1_000_000);
    assert.throws(
      () => parsePsarn(`arn:aws:${service}:us-east-1:123456789012:a`),
      (err: Error) => {
        assert.ok(err.message.length < 700, `${err.message.length} characters`);
        assert.match(err.message, /service is 'x{80}…' \(1000000 bytes\), not 'psarn'/);
        return true;
      },
    );
  });
});

// Issue 9: `arn:aws:psarn:useast1:…` silently created a zone for region `useast1`.
describe("parsePsarn: regions of the AWS partitions have AWS's form", () => {
  it('accepts AWS region names in aws, aws-cn and aws-us-gov, in any case', () => {
    for (const [partition, region] of [
      ['aws', 'us-east-1'],
      ['aws', 'ap-southeast-2'],
      ['aws', 'eu-central-1'],
      ['aws', 'il-central-1'],
      ['aws', 'US-WEST-2'],
      ['aws-cn', 'cn-north-1'],
      ['aws-cn', 'cn-northwest-1'],
      ['aws-us-gov', 'us-gov-west-1'],
      ['AWS-US-GOV', 'us-gov-east-1'],
    ] as const) {
      assert.equal(parsePsarn(`arn:${partition}:psarn:${region}:123456789012:a`).region, region.toLowerCase());
    }
  });

  const refused: [string, string, string][] = [
    ['aws', 'useast1', 'did you mean us-east-1?'],
    ['aws', 'us-east1', 'did you mean us-east-1?'],
    ['aws', 'useast-1', 'did you mean us-east-1?'],
    ['aws', 'apsoutheast2', 'did you mean ap-southeast-2?'],
    ['aws-us-gov', 'usgovwest1', 'did you mean us-gov-west-1?'],
    ['aws-cn', 'cnnorth1', 'did you mean cn-north-1?'],
    ['aws', 'us-east', "use AWS's form, e.g. us-east-1 or ap-southeast-2"],
    ['aws', 'local', "use AWS's form, e.g. us-east-1 or ap-southeast-2"],
    ['aws', '1-east-1', "use AWS's form, e.g. us-east-1 or ap-southeast-2"],
    ['aws', 'usa-east-1', "use AWS's form, e.g. us-east-1 or ap-southeast-2"],
  ];
  for (const [partition, region, hint] of refused) {
    it(`refuses ${partition} region '${region}': ${hint}`, () => {
      const input = `arn:${partition}:psarn:${region}:123456789012:orders/created`;
      assert.throws(
        () => parsePsarn(input),
        (err: unknown) => {
          assert.ok(err instanceof PsarnError);
          assert.equal(err.code, 'ERR_INVALID_PSARN');
          assert.equal(
            err.message,
            `invalid psARN '${input}': region '${region}' is not an AWS region name in partition '${partition}'; ${hint}`,
          );
          return true;
        },
      );
    });
  }

  it('keeps the looser rule in other partitions', () => {
    assert.equal(parsePsarn('arn:minio:psarn:useast1:123456789012:a').region, 'useast1');
    assert.equal(parsePsarn('arn:awsx:psarn:local:123456789012:a').region, 'local');
    assert.equal(parsePsarn('arn:p:psarn:r-1:123456789012:a').region, 'r-1');
  });
});

describe('formatPsarn and isPsarn', () => {
  it('formats canonical lowercase text', () => {
    assert.equal(
      formatPsarn({ partition: 'AWS', region: 'us-east-1', account: '123456789012', path: ['Orders', 'x'] }),
      `${A}:orders/x`,
    );
    assert.equal(isPsarn(`${A}:orders/created`), true);
  });
});
