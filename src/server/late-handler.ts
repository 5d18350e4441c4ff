/**
 * The handler psarnd's DNS listeners are bound with before the store is open
 * (docs/design.md#bind-before-the-store): psarnd binds every socket first, so that a taken port
 * stops it before it creates a database or loads the demo routes, and only then opens the store
 * and builds the real QueryHandler. Until `serve` hands it over, every message is dropped: UDP
 * gets no reply (the client retries) and TCP closes the connection, as for any message the
 * handler drops, while /ready still says "starting".
 */
import type { PeerAddress } from '../wire/cookie.js';
import type { QueryHandler } from './handler.js';
import type { Proto } from './metrics.js';
import type { TransferPeer } from './transfer.js';

/** What a listener calls for each message: QueryHandler's two entry points. */
export type MessageHandler = Pick<QueryHandler, 'handle' | 'handleInto'> & Partial<Pick<QueryHandler, 'transfer'>>;

export class LateHandler implements MessageHandler {
  #handler: MessageHandler | undefined;

  /** From now on every message goes to `handler`. */
  serve(handler: MessageHandler): void {
    this.#handler = handler;
  }

  get serving(): boolean {
    return this.#handler !== undefined;
  }

  handle(request: Buffer, proto: Proto, peer?: PeerAddress): Buffer | undefined {
    return this.#handler?.handle(request, proto, peer);
  }

  transfer(request: Buffer, peer: TransferPeer): Iterable<Buffer> | undefined {
    return this.#handler?.transfer?.(request, peer);
  }

  handleInto(request: Buffer, proto: Proto, out: Buffer, offset: number, peer?: PeerAddress): number {
    return this.#handler === undefined ? -1 : this.#handler.handleInto(request, proto, out, offset, peer);
  }
}
