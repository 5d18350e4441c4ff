import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { encodeQuery } from '../../src/wire/message.js';
import {
  badtimeOtherData,
  findTsig,
  keyringReplyVerifier,
  keyringSigner,
  makeTsigKey,
  parseTsigKey,
  readTsig,
  requestMacOf,
  signMessage,
  signMessageMac,
  TsigError,
  TsigStreamSigner,
  TsigStreamVerifier,
  tsigSize,
  unsignedErrorTsig,
  verifyMessage,
} from '../../src/wire/tsig.js';
import { Type } from '../../src/wire/types.js';
import { header, question, rr, u16, wname } from './build.js';

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYnk=';
const key256 = makeTsigKey('transfer-key', 'hmac-sha256', SECRET);
const key512 = makeTsigKey('key-512.example', 'hmac-sha512', SECRET);
const keys = new Map([
  [key256.name, key256],
  [key512.name, key512],
]);

/**
 * Queries signed by the real tools (captured once on a UDP socket): `dig -y
 * hmac-sha256:transfer-key:SECRET … created.orders.psarn.internal URI` (BIND 9, with an OPT and a
 * cookie) and `kdig -y hmac-sha512:Key-512.Example:SECRET …` (Knot, no EDNS). Independent vectors:
 * our MAC computation must agree with theirs to the bit.
 */
const DIG_SHA256 = Buffer.from(
  '8eda012000010000000000020763726561746564066f726465727305707361726e08696e7465726e616c000100000100002904d000000000000c000a000837df7baa4dbe429c0c7472616e736665722d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b113e9a012c0020c7db7a99e4789deb768480c2b866df9ba32c7360dd602816215faf8553c53d368eda00000000',
  'hex',
);
const KDIG_SHA512 = Buffer.from(
  '8569012000010000000000010763726561746564066f726465727305707361726e08696e7465726e616c0001000001076b65792d353132076578616d706c650000fa00ff00000000005d0b686d61632d7368613531320000006b1140f8012c00403382fb173d66de4b19b7f62c8b1deb1fedab0edadbaf09d1966cd303d72ad9a7715668e594c8879fb8a75da4ad4e349b21ce0c392971a50f434d2659b9357ef3856900000000',
  'hex',
);
const DIG_TIME = 0x6b113e9a;
const KDIG_TIME = 0x6b1140f8;
const at = (seconds: number) => () => seconds * 1000;

function query(id = 0x4242): Buffer {
  return encodeQuery({ id, name: 'created.orders.psarn.internal.', qtype: Type.URI, edns: {} });
}

describe('TSIG vectors from dig and kdig', () => {
  it("verifies dig's hmac-sha256 query, with an OPT before the TSIG", () => {
    const result = verifyMessage(DIG_SHA256, keys, { now: at(DIG_TIME) });
    assert.equal(result.status, 'ok');
    assert.equal(result.status === 'ok' && result.key.name, 'transfer-key.');
  });

  it("verifies kdig's hmac-sha512 query, whose key name was typed in mixed case", () => {
    const result = verifyMessage(KDIG_SHA512, keys, { now: at(KDIG_TIME) });
    assert.equal(result.status, 'ok');
    assert.equal(result.status === 'ok' && result.tsig.record.keyName, 'key-512.example.');
  });

  it('reads every field of the TSIG RR', () => {
    const found = readTsig(DIG_SHA256, findTsig(DIG_SHA256));
    assert.equal(found.record.algorithm, 'hmac-sha256.');
    assert.equal(found.record.timeSigned, DIG_TIME);
    assert.equal(found.record.fudge, 300);
    assert.equal(found.record.mac.length, 32);
    assert.equal(found.record.originalId, 0x8eda);
    assert.equal(found.record.error, 0);
    assert.equal(found.record.otherData.length, 0);
  });

  it('any flipped bit of the signed message, or the wrong secret, is BADSIG', () => {
    for (const offset of [3, 13, 40, DIG_SHA256.length - 40, DIG_SHA256.length - 1]) {
      const bad = Buffer.from(DIG_SHA256);
      bad[offset]! ^= 0x01;
      const status = verifyMessage(bad, keys, { now: at(DIG_TIME) }).status;
      // (Offset 0, the id on the wire, is not signed: the original id is.)
      assert.ok(status === 'badsig' || status === 'formerr', `offset ${offset}: ${status}`);
    }
    const other = makeTsigKey('transfer-key', 'hmac-sha256', Buffer.alloc(32, 7).toString('base64'));
    assert.equal(verifyMessage(DIG_SHA256, new Map([[other.name, other]]), { now: at(DIG_TIME) }).status, 'badsig');
  });

  it('outside the fudge is BADTIME (after the MAC is checked); inside it is fine', () => {
    assert.equal(verifyMessage(DIG_SHA256, keys, { now: at(DIG_TIME + 300) }).status, 'ok');
    assert.equal(verifyMessage(DIG_SHA256, keys, { now: at(DIG_TIME - 300) }).status, 'ok');
    const late = verifyMessage(DIG_SHA256, keys, { now: at(DIG_TIME + 301) });
    assert.equal(late.status, 'badtime');
    assert.equal(late.status === 'badtime' && late.now, DIG_TIME + 301);
    assert.equal(verifyMessage(DIG_SHA256, keys, { now: at(DIG_TIME - 301) }).status, 'badtime');
    // A smaller local fudge wins over the message's 300.
    assert.equal(verifyMessage(DIG_SHA256, keys, { now: at(DIG_TIME + 11), fudge: 10 }).status, 'badtime');
  });

  it('an unknown key, or a known key name with another algorithm, is BADKEY', () => {
    assert.equal(verifyMessage(DIG_SHA256, new Map([[key512.name, key512]]), { now: at(DIG_TIME) }).status, 'badkey');
    const wrongAlg = makeTsigKey('transfer-key', 'hmac-sha512', SECRET);
    assert.equal(
      verifyMessage(DIG_SHA256, new Map([[wrongAlg.name, wrongAlg]]), { now: at(DIG_TIME) }).status,
      'badkey',
    );
  });
});

describe('signMessage and verifyMessage', () => {
  it('a signed query verifies, with the MAC computed over exactly the RFC 8945 §4.3.3 fields', () => {
    const q = query();
    const { message, mac } = signMessageMac(q, key256, { now: at(1_700_000_000) });
    assert.equal(message.readUInt16BE(10), 2, 'ARCOUNT counts the OPT and the TSIG');
    // Independent recomputation: the message, then key name, class ANY, TTL 0, algorithm, time, fudge, error, other len.
    const expected = createHmac('sha256', key256.secret)
      .update(q)
      .update(Buffer.concat([wname('transfer-key'), u16(255), Buffer.alloc(4), wname('hmac-sha256')]))
      .update(Buffer.from([0, 0, 0x65, 0x53, 0xf1, 0x00, 0x01, 0x2c, 0, 0, 0, 0]))
      .digest();
    assert.deepEqual(mac, expected);
    const result = verifyMessage(message, keys, { now: at(1_700_000_000) });
    assert.equal(result.status, 'ok');
    assert.equal(message.length, q.length + tsigSize(key256));
  });

  it('a reply covers the request MAC: verified with it, BADSIG without it or with another', () => {
    const { mac: requestMac } = signMessageMac(query(), key512, { now: at(1000) });
    const reply = Buffer.from(query());
    reply[2]! |= 0x80;
    const signed = signMessage(reply, key512, { requestMac, now: at(1000) });
    assert.equal(verifyMessage(signed, keys, { requestMac, now: at(1000) }).status, 'ok');
    assert.equal(verifyMessage(signed, keys, { now: at(1000) }).status, 'badsig');
    assert.equal(verifyMessage(signed, keys, { requestMac: Buffer.alloc(64), now: at(1000) }).status, 'badsig');
  });

  it('the original id, not the id on the wire, is signed (a forwarder may change the id)', () => {
    const signed = signMessage(query(0x1111), key256, { now: at(5000) });
    signed.writeUInt16BE(0x2222, 0);
    assert.equal(verifyMessage(signed, keys, { now: at(5000) }).status, 'ok');
  });

  it('an unsigned message is unsigned; a TSIG that is not the last record is FORMERR', () => {
    assert.equal(verifyMessage(query(), keys).status, 'unsigned');
    const signed = signMessage(encodeQuery({ id: 1, name: 'a.', qtype: 1, edns: false }), key256, { now: at(1) });
    const tsigRr = signed.subarray(findTsig(signed));
    // The TSIG, then an OPT after it.
    const opt = rr(Buffer.from([0]), Type.OPT, 1232, 0, Buffer.alloc(0));
    const misplaced = Buffer.concat([signed, opt]);
    misplaced.writeUInt16BE(2, 10);
    assert.equal(verifyMessage(misplaced, keys).status, 'formerr');
    // A TSIG in the answer section.
    const inAnswer = Buffer.concat([header({ id: 1, an: 1 }), question(wname('a'), 1), tsigRr]);
    assert.equal(verifyMessage(inAnswer, keys).status, 'formerr');
    // Two TSIGs.
    const twice = Buffer.concat([signed, tsigRr]);
    twice.writeUInt16BE(2, 10);
    assert.equal(verifyMessage(twice, keys).status, 'formerr');
  });

  it('MAC sizes: longer than the hash or under max(10, half) is FORMERR; a legal truncation is BADTRUNC', () => {
    const signed = signMessage(query(), key256, { now: at(1) });
    const start = findTsig(signed);
    const macSizeAt = signed.length - 6 - 32 - 2;
    const rdlenAt = start + wname('transfer-key').length + 8;
    const truncate = (size: number) => {
      const out = Buffer.concat([
        signed.subarray(0, macSizeAt),
        u16(size),
        signed.subarray(macSizeAt + 2, macSizeAt + 2 + size),
        signed.subarray(signed.length - 6),
      ]);
      out.writeUInt16BE(out.length - rdlenAt - 2, rdlenAt);
      return out;
    };
    assert.equal(verifyMessage(truncate(16), keys, { now: at(1) }).status, 'badtrunc');
    assert.equal(verifyMessage(truncate(15), keys, { now: at(1) }).status, 'formerr');
    assert.equal(verifyMessage(truncate(32), keys, { now: at(1) }).status, 'ok');
  });

  it('an unsigned BADSIG TSIG and a signed BADTIME reply read as the peer error', () => {
    const { message: request, mac: requestMac } = signMessageMac(query(), key256, { now: at(100) });
    const found = readTsig(request, findTsig(request));
    const reply = Buffer.from(query());
    reply[2]! |= 0x80;
    const badsig = unsignedErrorTsig(reply, found, TsigError.BADSIG);
    const r1 = verifyMessage(badsig, keys, { requestMac, now: at(100) });
    assert.deepEqual(r1.status === 'peer-error' && r1.error, TsigError.BADSIG);
    assert.equal(readTsig(badsig, findTsig(badsig)).record.mac.length, 0);
    const badtime = signMessage(reply, key256, {
      requestMac,
      now: at(100),
      timeSigned: 100,
      error: TsigError.BADTIME,
      otherData: badtimeOtherData(9999),
    });
    const r2 = verifyMessage(badtime, keys, { requestMac, now: at(100) });
    assert.equal(r2.status === 'peer-error' && r2.error, TsigError.BADTIME);
    assert.deepEqual(readTsig(badtime, findTsig(badtime)).record.otherData, Buffer.from([0, 0, 0, 0, 0x27, 0x0f]));
  });
});

describe('keyringSigner and keyringReplyVerifier (the NOTIFY seams)', () => {
  it('sign by key name (any case); verify a reply against the signed request', () => {
    const sign = keyringSigner(keys, { now: at(700) });
    const verify = keyringReplyVerifier(keys, { now: at(700) });
    const request = sign(query(5), 'Transfer-Key');
    const requestMac = requestMacOf(request);
    assert.equal(requestMac?.length, 32);
    const reply = Buffer.from(query(5));
    reply[2]! |= 0x80;
    const signedReply = signMessage(reply, key256, { requestMac, now: at(700) });
    assert.equal(verify(signedReply, request, 'transfer-key'), true);
    assert.equal(verify(signedReply, sign(query(6), 'transfer-key'), 'transfer-key'), false, 'another request');
    assert.equal(verify(reply, request, 'transfer-key'), false, 'unsigned');
    assert.equal(verify(signedReply, request, 'key-512.example'), false, 'another key');
    const badsig = unsignedErrorTsig(reply, readTsig(request, findTsig(request)), TsigError.BADSIG);
    assert.equal(verify(badsig, request, 'transfer-key'), false, 'the peer refused it');
    assert.throws(() => sign(query(), 'nobody'), /TSIG key 'nobody' is not in tsig.keys/);
  });
});

describe('parseTsigKey', () => {
  it('reads [ALG:]NAME:SECRET, canonical name, default hmac-sha256', () => {
    const k = parseTsigKey(`Update-Key:${SECRET}`);
    assert.equal(k.name, 'update-key.');
    assert.equal(k.algorithm, 'hmac-sha256');
    assert.equal(parseTsigKey(`HMAC-SHA512:k:${SECRET}`).algorithm, 'hmac-sha512');
  });

  it('refuses other algorithms and bad secrets, without echoing the secret', () => {
    assert.throws(() => parseTsigKey(`hmac-md5:k:${SECRET}`), /hmac-sha256, hmac-sha512/);
    for (const secret of ['not base64!!', 'Q', 'Zm9vY', '']) {
      assert.throws(
        () => parseTsigKey(`k:${secret}`),
        (err: Error) => !(secret.length > 0 && err.message.includes(secret)),
      );
    }
  });
});

describe('multi-message (RFC 8945 §5.3.1)', () => {
  const messages = [0, 1, 2, 3, 4].map((i) => {
    const m = encodeQuery({ id: 0x7777, name: 'orders.psarn.internal.', qtype: Type.AXFR, edns: false });
    m[2]! |= 0x80;
    m.writeUInt16BE(i + 1, m.length - 2); // distinct content per message (the class)
    return m;
  });

  it('every message signed, chained: verifies in order, not out of order', () => {
    const { mac: requestMac } = signMessageMac(query(0x7777), key256, { now: at(50) });
    const signer = new TsigStreamSigner(key256, requestMac, { now: at(50) });
    const signed = messages.map((m) => signer.sign(m));
    const verifier = new TsigStreamVerifier(key256, requestMac, { now: at(50) });
    for (const m of signed) assert.equal(verifier.verify(m).status, 'ok');
    assert.equal(verifier.end(), true);

    const swapped = new TsigStreamVerifier(key256, requestMac, { now: at(50) });
    assert.equal(swapped.verify(signed[0]!).status, 'ok');
    assert.equal(swapped.verify(signed[2]!).status, 'badsig');
  });

  it('later messages carry only the timers; the first is a reply with the full variables', () => {
    const { mac: requestMac } = signMessageMac(query(0x7777), key256, { now: at(50) });
    const signer = new TsigStreamSigner(key256, requestMac, { now: at(50) });
    const first = signer.sign(messages[0]!);
    assert.equal(verifyMessage(first, keys, { requestMac, now: at(50) }).status, 'ok');
    const second = signer.sign(messages[1]!);
    const priorMac = readTsig(first, findTsig(first)).record.mac;
    const expected = createHmac('sha256', key256.secret)
      .update(Buffer.concat([u16(32), priorMac, messages[1]!, Buffer.from([0, 0, 0, 0, 0, 50, 0x01, 0x2c])]))
      .digest();
    assert.deepEqual(readTsig(second, findTsig(second)).record.mac, expected);
  });

  it('unsigned messages between signed ones are covered by the next MAC; at most 99 in a row; the last must be signed', () => {
    const { mac: requestMac } = signMessageMac(query(0x7777), key256, { now: at(50) });
    const first = signMessage(messages[0]!, key256, { requestMac, now: at(50) });
    const firstMac = readTsig(first, findTsig(first)).record.mac;
    // Sign message 3 over messages 1 and 2 unsigned, by hand (what a BIND primary may send).
    const t = Buffer.from([0, 0, 0, 0, 0, 50, 0x01, 0x2c]);
    const mac = createHmac('sha256', key256.secret)
      .update(Buffer.concat([u16(32), firstMac, messages[1]!, messages[2]!, messages[3]!, t]))
      .digest();
    const third = Buffer.concat([
      messages[3]!,
      wname('transfer-key'),
      u16(250),
      u16(255),
      Buffer.alloc(4),
      u16(wname('hmac-sha256').length + 16 + 32),
      wname('hmac-sha256'),
      t,
      u16(32),
      mac,
      u16(0x7777),
      u16(0),
      u16(0),
    ]);
    third.writeUInt16BE(third.readUInt16BE(10) + 1, 10);
    const v = new TsigStreamVerifier(key256, requestMac, { now: at(50) });
    assert.equal(v.verify(first).status, 'ok');
    assert.equal(v.verify(messages[1]!).status, 'unsigned');
    assert.equal(v.end(), false, 'ending on an unsigned message fails');
    assert.equal(v.verify(messages[2]!).status, 'unsigned');
    assert.equal(v.verify(third).status, 'ok');
    assert.equal(v.end(), true);

    const long = new TsigStreamVerifier(key256, requestMac, { now: at(50) });
    assert.equal(long.verify(first).status, 'ok');
    for (let i = 0; i < 99; i++) assert.equal(long.verify(messages[1]!).status, 'unsigned');
    assert.equal(long.verify(messages[1]!).status, 'formerr');
  });

  it('the first message unsigned is refused', () => {
    const v = new TsigStreamVerifier(key256, Buffer.alloc(32), { now: at(50) });
    assert.equal(v.verify(messages[0]!).status, 'unsigned');
    assert.equal(v.end(), false);
  });
});
