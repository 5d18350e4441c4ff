/** One HTTP GET to a daemon's health/metrics port, for the tests: status and body. */
import { request } from 'node:http';

export function httpGet(at: { host: string; port: number }, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: at.host, port: at.port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}
