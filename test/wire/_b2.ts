import { encodeQuery } from '../../src/wire/index.js';
import { Cursor } from '../../src/wire/cursor.js';
import { readName } from '../../src/wire/name.js';
import { scanRecords } from '../../src/wire/scan.js';
const q = encodeQuery({ id: 7, name: 'CrEaTeD.orders.123456789012.us-east-1.aws.psarn.internal', qtype: 256 });
const N = 1_000_000;
function bench(name: string, f: () => void) { for (let k=0;k<2;k++){ const t = performance.now(); for (let i = 0; i < N; i++) f(); console.log(name, ((performance.now() - t) * 1000 / N).toFixed(3)); } }
bench('readName', () => { const c = new Cursor(q, 12); const l: number[] = []; readName(c, l, false); });
bench('scan', () => { scanRecords(q, 74, [0, 0, 1], { end: 74 }); });
bench('lower', () => { const lowered = Buffer.allocUnsafe(62); for (let i = 0; i < 62; i++) { const b = q[12 + i]!; lowered[i] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b; } });
bench('strings', () => { const s: string[] = []; for (let i = 0; i < 7; i++) s.push(q.toString('latin1', 13 + i * 3, 16 + i * 3)); });
bench('tryq', () => { try { const c = new Cursor(q, 12); readName(c, undefined, false); c.u16(); c.u16(); } catch { } });
