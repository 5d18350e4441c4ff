/** Binding a stream server (TCP or HTTP) and reading back the address it got (port 0 picks one). */
import type { Server } from 'node:net';
import type { HostPort } from '../config/config.js';

export async function listenOn(server: Server, at: HostPort): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error(`listener on ${at.host}:${at.port} has no address`);
  return { host: bound.address, port: bound.port };
}
