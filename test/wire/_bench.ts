import { encodeQuery, parseQuery, encodeReady, assembleResponse } from '../../src/wire/index.js';
const q = encodeQuery({ id: 7, name: 'CrEaTeD.orders.123456789012.us-east-1.aws.psarn.internal', qtype: 256 });
const p = parseQuery(q); if (p.kind !== 'query') throw 1;
const ready = encodeReady(Buffer.from(p.query.key, 'latin1'), { rcode: 0, aa: true, answer: [{ name: p.query.qname, ttl: 300, type: 'URI', priority: 10, weight: 90, target: 'arn:aws:lambda:us-east-1:123456789012:function:A' }], authority: [], additional: [] });
const N = 1_000_000;
for (let k = 0; k < 3; k++) {
let t = performance.now();
for (let i = 0; i < N; i++) { const r = parseQuery(q); if (r.kind !== 'query') throw 1; }
console.log(((performance.now() - t) * 1000 / N).toFixed(3), 'us per parse');
t = performance.now();
for (let i = 0; i < N; i++) { assembleResponse(q, p.query, ready, { maxSize: 1232, udpPayloadSize: 1232 }); }
console.log(((performance.now() - t) * 1000 / N).toFixed(3), 'us per assemble');
}
