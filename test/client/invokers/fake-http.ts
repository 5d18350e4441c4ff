/** A local HTTP server standing in for an https target: records each POST, answers as told. */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpHit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

export interface FakeHttp {
  url: string;
  hits: HttpHit[];
  /** Answer this from now on; 'hang' never answers (for timeouts). */
  answer(reply: { status: number; body?: string; headers?: Record<string, string> } | 'hang'): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeHttp(): Promise<FakeHttp> {
  const hits: HttpHit[] = [];
  const ok = { status: 200, body: '{"accepted":true}', headers: { 'content-type': 'application/json' } };
  let reply: Parameters<FakeHttp['answer']>[0] = ok;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks) });
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    answer: (r) => {
      reply = r;
    },
    reset() {
      hits.length = 0;
      reply = ok;
    },
    close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
