import { checkRoute } from '../../src/store/validate.js';
const n = 100000;
const routes = Array.from({ length: n }, (_, i) => ({ path: `svc${i % 1000}/r${i}`, spec: { policy: 'weighted' as const, ttl: 300, targets: [
    { target: `arn:aws:lambda:us-east-1:123456789012:function:f${i}`, weight: 90, priority: 10 },
    { target: `arn:aws:lambda:us-east-1:123456789012:function:g${i}`, weight: 10, priority: 10 }] } }));
for (let k = 0; k < 3; k++) {
let t = performance.now();
const c = routes.map((r) => checkRoute('a.', r.path, r.spec));
console.log('validate', (performance.now() - t).toFixed(0));
t = performance.now();
c.sort(); console.log('sort', (performance.now() - t).toFixed(0));
}
