/**
 * The answer function: a parsed question and a zone view in, a Reply out (docs/design.md#records-at-a-routes-name and #the-epoch-override).
 * Pure given the view. Lookup outcomes are values (CoreDNS plugin/file/lookup.go style) and
 * turn into an RCODE in one place.
 */
import { labelsToPath, routeName } from '../psarn/name.js';
import { EPOCH_LABEL } from '../psarn/txt.js';
import type { RouteData, ZoneRow } from '../store/types.js';
import { type DnsRecord, MAX_CNAME_CHAIN, Rcode, type RcodeValue, type Reply, Type } from '../wire/types.js';
import type { CatalogZone } from './catalog.js';
import { CATALOG, epochKey, pathKey, serialKey, ZONE_SET, zoneKey } from './deps.js';
import { META_LABEL, metaRecords } from './meta.js';
import { cnameRecord, epochRecord, negativeSoaRecord, nsRecords, soaRecord } from './records.js';
import { isRouteQuestion } from './route-wire.js';
import { nameLabels, type ZoneView } from './view.js';

export interface Question {
  /** Labels of the name, leftmost first, lowercase (no root label). */
  labels: readonly string[];
  qtype: number;
}

/**
 * A target route's records for a URI, TXT or ANY question: left as data, for the one route-record
 * encoder (src/zone/route-wire.ts) that the route index uses too.
 */
export interface RouteAnswer {
  /** The route's name (the question, or the last CNAME's target): every record's owner. */
  owner: string;
  route: RouteData;
  epoch: number;
  qtype: number;
}

/** What one name holds for one type. */
type Lookup =
  | { kind: 'success'; answer: DnsRecord[] }
  | { kind: 'route'; route: RouteAnswer }
  | { kind: 'cname'; record: DnsRecord & { type: 'CNAME' } }
  | { kind: 'nodata' }
  | { kind: 'nxdomain' };

export interface Answer {
  /** The reply; for a target route, its answer section holds only the CNAMEs that led there. */
  reply: Reply;
  /** A target route's records, which follow the reply's answer section (zone/encode.ts). */
  route?: RouteAnswer;
  /** What the reply was read from (src/zone/deps.ts): a cached reply is valid while these are unchanged. */
  deps: string[];
}

function lookup(view: ZoneView, zone: ZoneRow, labels: readonly string[], qtype: number, deps: string[]): Lookup {
  const depth = labels.length - nameLabels(zone.name).length;
  if (depth === 0) {
    deps.push(serialKey(zone.name));
    if (qtype === Type.SOA) return { kind: 'success', answer: [soaRecord(zone)] };
    if (qtype === Type.NS) return { kind: 'success', answer: nsRecords(zone) };
    // RFC 8482 lets ANY be answered with a subset; the apex's own records are small.
    if (qtype === Type.ANY) return { kind: 'success', answer: [soaRecord(zone), ...nsRecords(zone)] };
    return { kind: 'nodata' };
  }
  const relative = labels.slice(0, depth);
  if (depth === 1 && relative[0] === EPOCH_LABEL) {
    deps.push(epochKey(zone.name));
    if (qtype === Type.TXT || qtype === Type.ANY) {
      return { kind: 'success', answer: [epochRecord(zone, view.epochTtl)] };
    }
    return { kind: 'nodata' };
  }
  if (relative[0] === META_LABEL && relative.length > 1) return metaLookup(view, zone, relative, qtype, deps);
  const segments = labelsToPath(relative);
  if (segments === undefined) return { kind: 'nxdomain' };
  const path = segments.join('/');
  const route = view.getRoute(zone, path);
  if (route === undefined) return view.hasDescendants(zone, path) ? { kind: 'nodata' } : { kind: 'nxdomain' };
  deps.push(pathKey(zone.name, path), epochKey(zone.name));
  const name = routeName(zone.name, path);
  if (route.alias !== undefined) {
    const record = cnameRecord(name, route);
    if (qtype === Type.CNAME || qtype === Type.ANY) return { kind: 'success', answer: [record] };
    // RFC 4035 §2.5, RFC 2181 §10.1.1: RRSIG and NSEC may sit beside a CNAME, so a question for
    // them is about the alias itself, not its target; we hold neither (NODATA), as Knot answers.
    if (qtype === Type.RRSIG || qtype === Type.NSEC) return { kind: 'nodata' };
    return { kind: 'cname', record };
  }
  if (!isRouteQuestion(qtype)) return { kind: 'nodata' };
  return { kind: 'route', route: { owner: name, route, epoch: zone.epoch, qtype } };
}

/**
 * `_meta.<route name>`: the route's metadata as TXT (src/zone/meta.ts), the records `zone export`
 * and transfers hold, so psarnd answers as a Knot secondary of it does (docs/design.md#remote-cli).
 * A route without metadata has no such name: NXDOMAIN, as on a secondary. The answer depends on
 * the route (its metadata and TTL) and, when negative, on the serial (the negative SOA).
 */
function metaLookup(view: ZoneView, zone: ZoneRow, relative: readonly string[], qtype: number, deps: string[]): Lookup {
  const segments = labelsToPath(relative.slice(1));
  if (segments === undefined || view.getMetadata === undefined) return { kind: 'nxdomain' };
  const path = segments.join('/');
  deps.push(pathKey(zone.name, path));
  const route = view.getRoute(zone, path);
  const metadata = route === undefined ? undefined : view.getMetadata(zone, path);
  let records: DnsRecord[] = [];
  if (route !== undefined && metadata !== undefined) {
    try {
      records = metaRecords(routeName(zone.name, path), route.ttl, metadata);
    } catch {
      // An entry too long for one TXT record: writes refuse it; a database written otherwise
      // still answers its routes, without the metadata.
      records = [];
    }
  }
  if (records.length === 0) return { kind: 'nxdomain' };
  if (qtype === Type.TXT || qtype === Type.ANY) return { kind: 'success', answer: records };
  return { kind: 'nodata' };
}

/** Where a name is answered from: a zone of routes, or the catalog zone. */
type Authority = { kind: 'zone'; zone: ZoneRow } | { kind: 'catalog'; catalog: CatalogZone };

/**
 * The deepest zone holding the name: one of the route zones or the catalog (which is not among
 * them: its content is derived, docs/design.md#catalog-zone). Undefined: outside all of them.
 */
function findAuthority(view: ZoneView, labels: readonly string[]): Authority | undefined {
  const zone = view.findZone(labels);
  const catalog = view.catalog?.();
  const inCatalog = catalog?.contains(labels) === true;
  if (inCatalog && (zone === undefined || nameLabels(zone.name).length <= catalog!.labelCount)) {
    return { kind: 'catalog', catalog: catalog! };
  }
  return zone === undefined ? undefined : { kind: 'zone', zone };
}

function depKey(at: Authority): string {
  return at.kind === 'catalog' ? CATALOG : zoneKey(at.zone.name);
}

function reply(rcode: RcodeValue, aa: boolean, answer: DnsRecord[] = [], authority: DnsRecord[] = []): Reply {
  return { rcode, aa, answer, authority, additional: [] };
}

/**
 * Answers one question of class IN. Zone transfers are not offered (REFUSED, as Knot and NSD
 * answer when a transfer is not allowed); a name outside every zone is REFUSED without AA.
 */
export function answer(question: Question, view: ZoneView): Answer {
  const { qtype } = question;
  if (qtype === Type.AXFR || qtype === Type.IXFR) return { reply: reply(Rcode.REFUSED, false), deps: [ZONE_SET] };
  const first = findAuthority(view, question.labels);
  if (first === undefined) return { reply: reply(Rcode.REFUSED, false), deps: [ZONE_SET] };

  const chain: DnsRecord[] = [];
  const deps = [depKey(first)];
  const seen = new Set<string>();
  let at = first;
  let labels = question.labels;
  for (;;) {
    const name = `${labels.join('.')}.`;
    // A loop: answer the chain so far, each CNAME once, and let the resolver judge (as Knot does).
    if (seen.has(name)) return { reply: reply(Rcode.NOERROR, true, chain), deps };
    seen.add(name);
    // The catalog holds no aliases: its lookup ends the chain.
    const found = at.kind === 'catalog' ? at.catalog.lookup(labels, qtype) : lookup(view, at.zone, labels, qtype, deps);
    const negativeSoa = (): DnsRecord => {
      if (at.kind === 'catalog') return at.catalog.negativeSoa();
      deps.push(serialKey(at.zone.name));
      return negativeSoaRecord(at.zone);
    };
    switch (found.kind) {
      case 'success':
        return { reply: reply(Rcode.NOERROR, true, [...chain, ...found.answer]), deps };
      case 'route':
        return { reply: reply(Rcode.NOERROR, true, chain), route: found.route, deps };
      case 'nodata':
        return { reply: reply(Rcode.NOERROR, true, chain, [negativeSoa()]), deps };
      case 'nxdomain':
        // RFC 6604: after a CNAME the RCODE is that of the last name in the chain.
        return { reply: reply(Rcode.NXDOMAIN, true, chain, [negativeSoa()]), deps };
      case 'cname': {
        // RFC 1034 §4.3.2 step 3a: past the limit, answer the chain so far (NOERROR, AA, as Knot
        // does); the resolver continues from its last target. SERVFAIL would fail the resolution.
        if (chain.length === MAX_CNAME_CHAIN) return { reply: reply(Rcode.NOERROR, true, chain), deps };
        chain.push(found.record);
        labels = nameLabels(found.record.target);
        const next = findAuthority(view, labels);
        // A target outside our zones is the resolver's to follow (RFC 1034 §4.3.2 step 3a).
        if (next === undefined) return { reply: reply(Rcode.NOERROR, true, chain), deps };
        at = next;
        const key = depKey(at);
        if (!deps.includes(key)) deps.push(key);
      }
    }
  }
}
