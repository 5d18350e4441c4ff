/**
 * Reads one route from the remote server with queries (docs/cli.md#remote): the zone's SOA (does
 * the zone exist, its serial), `_epoch` TXT, and at the route's name its URI, TXT and CNAME
 * RRsets and its `_meta` TXT, pipelined on the session's connection. Only records owned by the
 * name itself count (a URI query of an alias answers its target's records too). The RRsets are
 * kept as read: an UPDATE's prerequisites pin them (RFC 2136 §2.4.2).
 */
import { routeName } from '../../psarn/name.js';
import { EPOCH_LABEL, parseRouteTxt } from '../../psarn/txt.js';
import type { StoredRoute } from '../../store/types.js';
import type { DnsRecord } from '../../wire/types.js';
import { Rcode, Type } from '../../wire/types.js';
import { META_LABEL } from '../../zonefile/meta.js';
import { epochOfTxt, knownRecords, routeFromRecords } from './records.js';
import type { RemoteReply, RemoteSession } from './session.js';

/** The RRsets of a route, as the server holds them. */
export interface RouteRrsets {
  uri: DnsRecord[];
  txt: DnsRecord[];
  cname: DnsRecord[];
  /** TXT at `_meta.<name>`. */
  meta: DnsRecord[];
}

export interface RemoteRouteRead {
  zone: string;
  path: string;
  /** The route's DNS name. */
  name: string;
  metaName: string;
  /** False when the server has no such zone (it refused the SOA query: outside every zone). */
  zoneExists: boolean;
  /** The zone's SOA serial (0 when there is no zone). */
  serial: number;
  /** The zone's epoch, from `_epoch` TXT (0 when there is none). */
  epoch: number;
  route?: StoredRoute;
  rrsets: RouteRrsets;
}

/** Records of `reply`'s answer owned by `name`, of `type`. */
function owned(reply: RemoteReply, name: string, type: DnsRecord['type']): DnsRecord[] {
  return knownRecords(reply.message.answer).filter((r) => r.name === name && r.type === type);
}

/** The zone's serial, or undefined when the server serves no such zone. @throws CliError on another refusal */
export async function readZoneSerial(session: RemoteSession, zone: string): Promise<number | undefined> {
  const reply = await session.query(zone, Type.SOA);
  // psarnd and Knot answer REFUSED for a name outside their zones (RFC 1035 §4.1.1 leaves it to
  // policy); a refused key is NOTAUTH with a TSIG error (RFC 8945 §5.2), reported as such.
  if (reply.message.rcode === Rcode.REFUSED) return undefined;
  if (reply.message.rcode !== Rcode.NOERROR) throw session.refused(reply, `a query of ${zone} SOA`);
  const soa = owned(reply, zone, 'SOA')[0];
  return soa?.type === 'SOA' ? soa.serial : undefined;
}

/** The zone's epoch from `_epoch.<zone>` TXT "epoch=N" (0 when it has none). */
export async function readEpoch(
  session: RemoteSession,
  zone: string,
): Promise<{ epoch: number; records: DnsRecord[] }> {
  const name = `${EPOCH_LABEL}.${zone}`;
  const reply = await session.query(name, Type.TXT);
  const records = owned(reply, name, 'TXT');
  for (const r of records) {
    if (r.type !== 'TXT') continue;
    const epoch = epochOfTxt(r.strings);
    if (epoch !== undefined) return { epoch, records };
  }
  return { epoch: 0, records };
}

/**
 * The route at `at` on the server, and what its RRsets hold.
 * @throws CliError naming the server on a refusal, a timeout, records psarn cannot read
 */
export async function readRoute(
  session: RemoteSession,
  at: { zone: string; path: string },
  namespace: string,
): Promise<RemoteRouteRead> {
  const name = routeName(at.zone, at.path);
  const metaName = `${META_LABEL}.${name}`;
  const [serial, epoch, uri, txt, cname, meta] = await Promise.all([
    readZoneSerial(session, at.zone),
    readEpoch(session, at.zone),
    session.query(name, Type.URI),
    session.query(name, Type.TXT),
    session.query(name, Type.CNAME),
    session.query(metaName, Type.TXT),
  ]);
  for (const [reply, type] of [
    [uri, 'URI'],
    [txt, 'TXT'],
    [cname, 'CNAME'],
    [meta, 'TXT'],
  ] as const) {
    const rcode = reply.message.rcode;
    // NXDOMAIN: no such name; REFUSED: no such zone (told by the SOA query).
    if (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN) continue;
    if (rcode === Rcode.REFUSED && serial === undefined) continue;
    throw session.refused(reply, `a query of ${reply === meta ? metaName : name} ${type}`);
  }
  const rrsets: RouteRrsets = {
    uri: owned(uri, name, 'URI'),
    // Only the route's own TXT: psarn's `v=psarn1` one (another TXT there is not psarn's).
    txt: owned(txt, name, 'TXT').filter((r) => r.type === 'TXT' && isRouteTxt(r.strings)),
    cname: owned(cname, name, 'CNAME'),
    meta: owned(meta, metaName, 'TXT'),
  };
  const records = [...rrsets.uri, ...rrsets.txt, ...rrsets.cname, ...rrsets.meta];
  const route = records.length === 0 ? undefined : routeFromRecords(records, at, namespace, session.target.label);
  return {
    zone: at.zone,
    path: at.path,
    name,
    metaName,
    zoneExists: serial !== undefined,
    serial: serial ?? 0,
    epoch: epoch.epoch,
    ...(route === undefined ? {} : { route }),
    rrsets,
  };
}

/** True when a TXT is psarn's route TXT (`v=psarn1` …): the one TXT at a route's name psarn reads. */
export function isRouteTxt(strings: readonly string[]): boolean {
  try {
    parseRouteTxt(strings);
    return true;
  } catch {
    return false;
  }
}
