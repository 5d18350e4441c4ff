import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressBytes, checkServerCookie, parseCookieOption, writeServerCookie } from '../../src/wire/cookie.js';

const hex = (s: string) => Buffer.from(s, 'hex');

/** RFC 9018 Appendix A: secret, client cookie, client address, time, the server cookie returned. */
const VECTORS = [
  [
    'A.1',
    'e5e973e5a6b2a43f48e7dc849e37bfcf',
    '2464c4abcf10c957',
    '198.51.100.100',
    1559731985,
    '010000005cf79f111f8130c3eee29480',
  ],
  [
    'A.2',
    'e5e973e5a6b2a43f48e7dc849e37bfcf',
    '2464c4abcf10c957',
    '198.51.100.100',
    1559734385,
    '010000005cf7a871d4a564a1442aca77',
  ],
  [
    'A.3',
    'e5e973e5a6b2a43f48e7dc849e37bfcf',
    'fc93fc62807ddb86',
    '203.0.113.203',
    1559734700,
    '010000005cf7a9acf73a7810aca2381e',
  ],
  [
    'A.4',
    '445536bcd2513298075a5d379663c962',
    '22681ab97d52c298',
    '2001:db8:220:1:59de:d0f4:8769:82b8',
    1559741961,
    '010000005cf7c609a6bb79d16625507a',
  ],
] as const;

describe('server cookies (RFC 9018)', () => {
  for (const [name, secret, client, ip, at, want] of VECTORS) {
    it(`builds the server cookie of Appendix ${name}`, () => {
      const out = Buffer.alloc(16);
      writeServerCookie(hex(client), addressBytes(ip), hex(secret), at, out, 0);
      assert.equal(out.toString('hex'), want);
    });

    it(`recognises the server cookie of Appendix ${name} as valid, and from another address as not`, () => {
      assert.equal(checkServerCookie(hex(client), hex(want), addressBytes(ip), hex(secret), at + 10), 'valid');
      assert.equal(checkServerCookie(hex(client), hex(want), addressBytes('192.0.2.1'), hex(secret), at), 'invalid');
    });
  }

  it('renews past half an hour, refuses past an hour and more than 5 minutes ahead (RFC 9018 §4.3)', () => {
    const [, secret, client, ip, at, want] = VECTORS[0];
    const check = (now: number) => checkServerCookie(hex(client), hex(want), addressBytes(ip), hex(secret), now);
    assert.equal(check(at + 1800), 'valid');
    assert.equal(check(at + 1801), 'renew');
    assert.equal(check(at + 3600), 'renew');
    assert.equal(check(at + 3601), 'invalid');
    assert.equal(check(at - 300), 'valid');
    assert.equal(check(at - 301), 'invalid');
  });

  it('refuses a cookie with one bit changed, another version, or another size', () => {
    const [, secret, client, ip, at, want] = VECTORS[0];
    const check = (server: Buffer) => checkServerCookie(hex(client), server, addressBytes(ip), hex(secret), at);
    for (let i = 0; i < 16; i++) {
      const bad = hex(want);
      bad[i]! ^= 1;
      assert.equal(check(bad), 'invalid', `byte ${i}`);
    }
    assert.equal(check(hex(want).subarray(0, 8)), 'invalid');
    assert.equal(checkServerCookie(hex('0000000000000000'), hex(want), addressBytes(ip), hex(secret), at), 'invalid');
  });

  it('keeps the timestamp in serial arithmetic across 2^32 (RFC 1982)', () => {
    const secret = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');
    const client = hex('2464c4abcf10c957');
    const out = Buffer.alloc(16);
    writeServerCookie(client, addressBytes('10.0.0.1'), secret, 0xffffff00, out, 0);
    assert.equal(checkServerCookie(client, out, addressBytes('10.0.0.1'), secret, 0x100), 'valid');
  });
});

describe('parseCookieOption (RFC 7873 §5.2.2)', () => {
  it('takes a client cookie alone, or with a server cookie of 8 to 32 bytes', () => {
    assert.deepEqual(parseCookieOption(Buffer.alloc(8, 1)), { client: Buffer.alloc(8, 1), server: undefined });
    const both = parseCookieOption(Buffer.concat([Buffer.alloc(8, 1), Buffer.alloc(16, 2)]));
    assert.deepEqual(both, { client: Buffer.alloc(8, 1), server: Buffer.alloc(16, 2) });
    assert.ok(parseCookieOption(Buffer.alloc(40)));
  });

  for (const n of [0, 1, 7, 9, 15, 41, 100]) {
    it(`refuses a ${n}-byte option`, () => assert.equal(parseCookieOption(Buffer.alloc(n)), undefined));
  }
});

describe('addressBytes', () => {
  const cases: [string, string][] = [
    ['198.51.100.100', 'c6336464'],
    ['::ffff:198.51.100.100', 'c6336464'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['2001:db8:220:1:59de:d0f4:8769:82b8', '20010db80220000159ded0f4876982b8'],
    ['not an address', ''],
    ['1::2::3', ''],
  ];
  for (const [text, want] of cases) {
    it(`reads ${text}`, () => assert.equal(Buffer.from(addressBytes(text)).toString('hex'), want));
  }
});
