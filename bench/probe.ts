/**
 * A UDP prober: asks a server for a route's URI RRset with the project's own codec and says
 * whether the answer is the expected target set. One socket, one query in flight at a time.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeQuery } from '../src/wire/message.js';
import { Type } from '../src/wire/types.js';
import type { HostPort } from './proc.js';
import type { BenchTarget } from './zonefile.js';

/** A target set in a form that compares: "priority weight target", sorted. */
export function targetKey(targets: readonly BenchTarget[]): string {
  return targets
    .map((t) => `${t.priority} ${t.weight} ${t.target}`)
    .sort()
    .join('\n');
}

export class UdpProbe {
  readonly #socket: Socket;
  readonly #server: HostPort;
  #id = 0;
  #pending: ((reply: Buffer) => void) | undefined;

  constructor(server: HostPort) {
    this.#server = server;
    this.#socket = createSocket('udp4');
    this.#socket.on('message', (msg) => this.#pending?.(msg));
  }

  /** The URI target set served for `name`, as a targetKey; undefined on timeout or an undecodable reply. */
  ask(name: string, timeoutMs: number): Promise<string | undefined> {
    this.#id = (this.#id + 1) & 0xffff;
    const id = this.#id;
    const query = encodeQuery({ id, name, qtype: Type.URI });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.#pending = (reply) => {
        let decoded: ReturnType<typeof decodeMessage>;
        try {
          decoded = decodeMessage(reply);
        } catch {
          return;
        }
        // A late reply to an earlier (timed-out) query is not this answer.
        if (decoded.id !== id) return;
        clearTimeout(timer);
        this.#pending = undefined;
        const targets: BenchTarget[] = [];
        for (const rr of decoded.answer) {
          if ('target' in rr && rr.type === 'URI') {
            targets.push({ target: rr.target, weight: rr.weight, priority: rr.priority });
          }
        }
        resolve(targetKey(targets));
      };
      this.#socket.send(query, this.#server.port, this.#server.host);
    });
  }

  /**
   * Asks until the answer is `expected`, at most `maxTries` times and until `deadline`
   * (performance.now() ms). Resolves with performance.now() of the first right answer, or undefined.
   */
  async waitFor(name: string, expected: string, options: { maxTries: number; deadline: number; timeoutMs: number }) {
    for (let i = 0; i < options.maxTries && performance.now() < options.deadline; i++) {
      if ((await this.ask(name, options.timeoutMs)) === expected) return performance.now();
    }
    return undefined;
  }

  close(): void {
    this.#socket.close();
  }
}
