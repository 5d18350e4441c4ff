/**
 * Control records at psarnd (docs/design.md#remote-operations): an UPDATE whose update section
 * is one TXT RR at `_rollout.<route>` or `_hold.<route>` runs that operation (never stored), and
 * a signed TXT query at such a name reads the operation's state. The wire side only: the
 * operations are src/ops/control-run.ts, run with the functions the local CLI uses.
 */
import {
  CONTROL_LABEL,
  CONTROL_VERBS,
  ControlError,
  type ControlKind,
  controlKindOf,
  decodeControl,
  encodeControl,
  STATUS_VERB,
} from '../ops/control.js';
import { controlState } from '../ops/control-run.js';
import { labelsToPath, parseZoneName } from '../psarn/name.js';
import type { Store } from '../store/store.js';
import { UpdateError } from '../update/errors.js';
import type { ParsedQuery } from '../wire/query.js';
import { encodeReady, type ReadyAnswer } from '../wire/response.js';
import { Class, Rcode, Type } from '../wire/types.js';
import { type ParsedUpdate, txtStrings, type UpdateRecord } from '../wire/update.js';
import { negativeSoaRecord } from '../zone/records.js';

/** True when an UPDATE's update section holds a control record (an RR at a control name). */
export function hasControl(update: ParsedUpdate): boolean {
  return update.updates.some((rr) => controlKindOf(rr.labels[0]) !== undefined);
}

/** A control request read from an UPDATE. */
export interface ControlUpdate {
  kind: ControlKind;
  verb: string;
  args: Record<string, unknown>;
  zone: string;
  path: string;
}

const formerr = (text: string) => new UpdateError(Rcode.FORMERR, text);

/**
 * The request of an UPDATE that holds a control record: exactly one update RR, TXT, class IN,
 * TTL 0, at a control name of a route of the UPDATE's zone, whose strings decode.
 * @throws UpdateError FORMERR naming the problem; NOTZONE for a name outside the zone
 */
export function readControlUpdate(update: ParsedUpdate): ControlUpdate {
  if (update.updates.length !== 1) throw formerr('a control record travels alone');
  const rr: UpdateRecord = update.updates[0]!;
  const kind = controlKindOf(rr.labels[0])!;
  if (rr.type !== Type.TXT || rr.klass !== Class.IN || rr.ttl !== 0) {
    throw formerr(`${rr.name}: a control record is one TXT RR of class IN and TTL 0`);
  }
  const zoneLabels = update.labels;
  const n = rr.labels.length - zoneLabels.length;
  if (n < 1 || zoneLabels.some((l, i) => rr.labels[n + i] !== l)) {
    throw new UpdateError(Rcode.NOTZONE, `${rr.name} is not in zone ${update.zone}`);
  }
  const path = labelsToPath(rr.labels.slice(1, n));
  if (path === undefined) {
    throw formerr(
      `${rr.name}: ${CONTROL_LABEL[kind]} is followed by a route name (psARN segments: letters, digits, - and _, at most 8)`,
    );
  }
  let request: { verb: string; args: Record<string, unknown> };
  try {
    request = decodeControl(txtStrings(rr.rdata));
  } catch (err) {
    if (err instanceof ControlError) throw formerr(`${rr.name}: ${err.message}`);
    throw err;
  }
  if (!CONTROL_VERBS[kind].includes(request.verb)) {
    throw formerr(
      `${rr.name}: ${CONTROL_LABEL[kind]} takes op=${CONTROL_VERBS[kind].join(', op=')}, not op=${request.verb}`,
    );
  }
  return { kind, ...request, zone: update.zone, path: path.join('/') };
}

/**
 * The answer to a verified signed TXT query at a control name: one TXT RR (TTL 0) with the
 * state (encodeControl 'status'), or NODATA with the zone's SOA when there is no operation.
 * Undefined when the name is not one psarnd reads state at (not a control name, a zone it does
 * not have): the query is then answered as any other.
 */
export function controlRead(query: ParsedQuery, store: Store, namespace: string): ReadyAnswer | undefined {
  const kind = controlKindOf(query.labels[0]);
  if (kind === undefined || query.qtype !== Type.TXT || query.qclass !== Class.IN) return undefined;
  const zoneLabelCount = namespace.split('.').filter((l) => l !== '').length + 3;
  const below = query.labels.length - 1 - zoneLabelCount;
  if (below < 0) return undefined;
  const zone = `${query.labels.slice(1 + below).join('.')}.`;
  try {
    parseZoneName(zone, namespace);
  } catch {
    return undefined;
  }
  let path: string | undefined;
  if (below > 0) {
    const segments = labelsToPath(query.labels.slice(1, 1 + below));
    if (segments === undefined) return undefined;
    path = segments.join('/');
  }
  return store.read(() => {
    const row = store.zone(zone);
    if (row === undefined) return undefined;
    const state = controlState(store, namespace, { kind, zone, ...(path === undefined ? {} : { path }) });
    const question = Buffer.from(query.key, 'latin1');
    if (state === undefined) {
      return encodeReady(question, {
        rcode: Rcode.NOERROR,
        aa: true,
        answer: [],
        authority: [negativeSoaRecord(row)],
        additional: [],
      });
    }
    const strings = encodeControl(STATUS_VERB, state, { ascii: true }).map((b) => b.toString('latin1'));
    return encodeReady(question, {
      rcode: Rcode.NOERROR,
      aa: true,
      answer: [{ name: query.qname, ttl: 0, type: 'TXT', strings }],
      authority: [],
      additional: [],
    });
  });
}
