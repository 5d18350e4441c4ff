/**
 * An Answer as ready wire bytes: the reply's records through the wire encoder, then, for a target
 * route, its records through the one route-record encoder (route-wire.ts), from a body packed for
 * this answer. The route index writes the same records from the body it keeps, with the same
 * function: the two paths cannot drift apart.
 */
import { encodeReady, type ReadyAnswer } from '../wire/response.js';
import type { Writer } from '../wire/writer.js';
import type { Answer, RouteAnswer } from './answer.js';
import { packRoute } from './route-entry.js';
import { epochText, type RouteRecords, routeRecordsLength, writeRouteRecords } from './route-wire.js';

/** A body packed for one answer interns nothing: prefix 0 is the empty prefix. */
const NO_PREFIXES: readonly Uint8Array[] = [Buffer.alloc(0)];

/**
 * Encodes an answer for the question `questionWire` (name, type and class; the query's key).
 * @throws WireError on a record that cannot be encoded (a bug or a store written by hand)
 */
export function encodeAnswer(questionWire: Buffer, found: Answer): ReadyAnswer {
  const { route } = found;
  if (route === undefined) return encodeReady(questionWire, found.reply);
  return encodeReady(questionWire, found.reply, (w) => writeRoute(w, route));
}

function writeRoute(w: Writer, route: RouteAnswer): RouteRecords {
  const owner = w.offsetOf(route.owner);
  if (owner === undefined) throw new Error(`route owner ${route.owner} is not in the message`);
  const src = { buf: packRoute(route.route), at: 0, prefixes: NO_PREFIXES, epoch: epochText(route.epoch) };
  w.room(routeRecordsLength(src, route.qtype));
  const out: RouteRecords = { end: 0, ancount: 0, arcount: 0, additionalAt: 0 };
  if (!writeRouteRecords(w.buf, w.len, owner, route.qtype, src, out)) throw new Error('route records did not fit');
  w.len = out.end;
  return out;
}
