import { encodeQuery, parseQuery } from '../../src/wire/index.js';
const q = encodeQuery({ id: 7, name: 'CrEaTeD.orders.123456789012.us-east-1.aws.psarn.internal', qtype: 256 });
const q2 = encodeQuery({ id: 7, name: 'a.b', qtype: 256, edns: false });
const N = 300_000;
function bench(name: string, f: () => void) { for (let k=0;k<3;k++){ const t = performance.now(); for (let i = 0; i < N; i++) f(); console.log(name, ((performance.now() - t) * 1000 / N).toFixed(3)); } }
bench('parse long', () => { parseQuery(q); });
bench('parse short', () => { parseQuery(q2); });
