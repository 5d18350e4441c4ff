/**
 * Turns master-file records into zone contents for Store.importZones (docs/design.md#zone-files): URI, TXT
 * and CNAME make routes (no TXT: weighted; URI TTL: the smallest of the set), SOA and NS at an
 * apex set the zone's parameters, `_epoch` TXT sets the epoch, anything else is an error naming
 * its line. Records of several zones may share a file.
 *
 * Built for 1M routes in a few seconds, with little garbage-collector work:
 * - Routes are kept in columns (typed arrays), not objects, and a target as its place in the
 *   file (a string is made when the store writes it). The store asks for each route in turn
 *   (a RouteList), so 1M routes never exist as objects all at once.
 * - The records of one owner usually come in one run: a route is found by comparing the owner
 *   with the previous record's, not through a map of every name (a map of 1M strings costs
 *   more than the sort below). Each run of records is a route; at the end the runs are sorted
 *   by path, file order among equals, and an owner that came back after other names is merged
 *   with its earlier run(s), with the checks its records would have met in one run. The
 *   routes come out in path order, the order the store writes them in.
 * - The usual route TXT (`"v=psarn1" "policy=weighted|fanout" "epoch=N"`) is read from its
 *   bytes; any other TXT goes through parseRouteTxt.
 * - A route's metadata is TXT at `_meta.<route name>` (meta.ts), usually right after the route:
 *   it joins the route's run; a route without metadata pays nothing for it.
 */

import { echo, quote } from '../errors.js';
import {
  MAX_SEGMENT_LENGTH,
  MAX_SEGMENTS,
  nameToPsarn,
  normalizeNamespace,
  parseZoneName,
  validateTarget,
} from '../psarn/index.js';
import { isPlainArn } from '../psarn/target.js';
import { EPOCH_LABEL, parseRouteTxt, type RouteTxt, TXT_VERSION } from '../psarn/txt.js';
import type {
  ImportRoute,
  Policy,
  RouteList,
  TargetSpec,
  ZoneContent,
  ZoneImport,
  ZoneParams,
} from '../store/types.js';
import type { DnsRecord } from '../wire/types.js';
import { ZoneFileError } from './errors.js';
import { decodeString, ESCAPED } from './lexer.js';
import { META_LABEL, metaEntry } from './meta.js';
import {
  type Entry,
  type ParsedLine,
  type ParseOptions,
  type RecordSink,
  readMasterFile,
  txtStrings,
} from './parse.js';

/** docs/design.md#records-at-a-routes-name: a route's TTL is 0..172800 seconds. */
export const MAX_ROUTE_TTL = 172800;

/** Policy codes in the policy column. */
const NO_TXT = 0;
const POLICIES: readonly (Policy | undefined)[] = [undefined, 'weighted', 'fanout'];
const WEIGHTED = 1;
const FANOUT = 2;

/** Where the current owner sits. */
const APEX = 0;
const EPOCH = 1;
const ROUTE = 2;
/** `_meta.<route name>`: the route's metadata. */
const META = 3;
const META_PREFIX = `${META_LABEL}.`;

interface ZoneAcc {
  name: string;
  params?: Partial<ZoneParams>;
  serial?: number;
  epoch?: number;
  soaLine: number;
  /** Ids of its runs, in file order. */
  runs: IntColumn;
}

interface Cname {
  alias: string;
  ttl: number;
  line: number;
}

/** A route's metadata entries, with the line of each (for the message of a repeated key). */
interface Meta {
  entries: Record<string, string>;
  lines: Map<string, number>;
}

/** Options of importMasterFile: the parser's, and the namespace the zones must be under. */
export interface ImportFileOptions extends ParseOptions {
  namespace: string;
}

/**
 * Reads a master file straight into zone contents, record by record. The routes of each zone
 * are a RouteList in path order that builds each route when asked (Store.importZones asks once).
 * @example const zones = importMasterFile(readFileSync(file), { namespace: 'psarn.internal.', file });
 * @throws ZoneFileError naming the line: the first problem in file order.
 */
export function importMasterFile(text: string | Uint8Array, options: ImportFileOptions): ZoneImport[] {
  const builder = new ZoneBuilder(options.namespace, options.file);
  try {
    readMasterFile(text, options, builder);
  } catch (err) {
    // A later run of an owner may have broken a rule on an earlier line than this error's.
    if (err instanceof ZoneFileError) throw builder.earlierError(err) ?? err;
    throw err;
  }
  return builder.finish();
}

/**
 * The zones of parsed records, routes as plain objects (for tests and small files).
 * @throws ZoneFileError naming the line (a name outside the namespace, a bad TXT, a CNAME beside other data, ...).
 */
export function buildZones(lines: Iterable<ParsedLine>, namespace: string, file?: string): ZoneContent[] {
  const builder = new ZoneBuilder(namespace, file);
  try {
    for (const line of lines) builder.other(line);
  } catch (err) {
    if (err instanceof ZoneFileError) throw builder.earlierError(err) ?? err;
    throw err;
  }
  return builder.finish().map((zone) => {
    const routes: ImportRoute[] = [];
    for (let i = 0; i < zone.routes.length; i++) routes.push(zone.routes.at(i)!);
    return { ...zone, routes };
  });
}

/** A growable column of 32-bit integers. */
class IntColumn {
  a: Int32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.a = new Int32Array(capacity);
  }

  /** @returns the index of the value */
  push(value: number): number {
    if (this.length === this.a.length) {
      const grown = new Int32Array(this.a.length * 2);
      grown.set(this.a);
      this.a = grown;
    }
    this.a[this.length] = value;
    return this.length++;
  }
}

/**
 * Routes and targets in columns. A run (the records of one owner in a row) has an id; a target
 * too. A target's text is bytes [start, end) of the file, or (start -1) in `targetText`: one
 * written with escapes, or given as a string (buildZones).
 */
class Columns {
  // Runs, by id.
  readonly path: string[] = [];
  readonly firstTarget = new IntColumn();
  readonly targetCount = new IntColumn();
  readonly uriTtl = new IntColumn();
  /** Line of the run's first URI record, 0 when none. */
  readonly uriLine = new IntColumn();
  /** Line of the run's TXT record, 0 when none. */
  readonly txtLine = new IntColumn();
  /** NO_TXT, WEIGHTED or FANOUT. */
  readonly policy = new IntColumn();
  readonly cname = new Map<number, Cname>();
  readonly meta = new Map<number, Meta>();
  /** Targets of a run that absorbed later runs of its owner (finish), by run id. */
  readonly merged = new Map<number, number[]>();
  // Targets, by id.
  readonly start = new IntColumn(2048);
  readonly end = new IntColumn(2048);
  readonly weight = new IntColumn(2048);
  readonly priority = new IntColumn(2048);
  readonly text = new Map<number, string>();
  src: Buffer | undefined;
  encoding: 'latin1' | 'utf8' = 'latin1';

  addRun(path: string): number {
    this.path.push(path);
    this.firstTarget.push(this.start.length);
    this.targetCount.push(0);
    this.uriTtl.push(0);
    this.uriLine.push(0);
    this.txtLine.push(0);
    return this.policy.push(NO_TXT);
  }

  targetText(t: number): string {
    const start = this.start.a[t]!;
    return start < 0 ? this.text.get(t)! : this.src!.toString(this.encoding, start, this.end.a[t]!);
  }

  /** Target ids of a run. */
  targetsOf(run: number): number[] {
    const merged = this.merged.size === 0 ? undefined : this.merged.get(run);
    if (merged !== undefined) return merged;
    const first = this.firstTarget.a[run]!;
    const ids = new Array<number>(this.targetCount.a[run]!);
    for (let i = 0; i < ids.length; i++) ids[i] = first + i;
    return ids;
  }

  /** The route of a run, as the store takes it. */
  route(run: number): ImportRoute {
    const path = this.path[run]!;
    const meta = this.meta.size === 0 ? undefined : this.meta.get(run);
    const cname = this.cname.size === 0 ? undefined : this.cname.get(run);
    if (cname !== undefined) {
      return {
        path,
        spec: { ttl: cname.ttl, alias: cname.alias, ...(meta === undefined ? {} : { metadata: meta.entries }) },
      };
    }
    const ids = this.targetsOf(run);
    const targets = new Array<TargetSpec>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      targets[i] = { target: this.targetText(t), weight: this.weight.a[t]!, priority: this.priority.a[t]! };
    }
    const policy = POLICIES[this.policy.a[run]!] ?? 'weighted';
    if (meta !== undefined)
      return { path, spec: { policy, ttl: this.uriTtl.a[run]!, targets, metadata: meta.entries } };
    return { path, spec: { policy, ttl: this.uriTtl.a[run]!, targets } };
  }
}

/** A zone's routes in path order, each built when asked. */
class ColumnRoutes implements RouteList {
  readonly #columns: Columns;
  readonly #runs: number[];

  constructor(columns: Columns, runs: number[]) {
    this.#columns = columns;
    this.#runs = runs;
  }

  get length(): number {
    return this.#runs.length;
  }

  at(i: number): ImportRoute | undefined {
    const run = this.#runs[i];
    return run === undefined ? undefined : this.#columns.route(run);
  }

  pathAt(i: number): string {
    return this.#columns.path[this.#runs[i]!]!;
  }

  /** Each route, built as it is reached. */
  *[Symbol.iterator](): Iterator<ImportRoute> {
    for (const run of this.#runs) yield this.#columns.route(run);
  }
}

/** Collects records (a RecordSink, or `other` for each ParsedLine) into zones (finish). */
export class ZoneBuilder implements RecordSink {
  readonly #ns: string;
  readonly #suffix: string;
  readonly #file: string | undefined;
  readonly #zones = new Map<string, ZoneAcc>();
  readonly #c = new Columns();
  /** The current owner, as the parser gave it, and where it sits. */
  #owner: string | undefined;
  #kind = APEX;
  #zone: ZoneAcc | undefined;
  #run = -1;
  /** Line of the record being added. */
  #line = 0;

  constructor(namespace: string, file?: string) {
    this.#ns = normalizeNamespace(namespace);
    this.#suffix = `.${this.#ns}`;
    this.#file = file;
  }

  #fail(message: string): never {
    throw new ZoneFileError(message, this.#line, this.#file);
  }

  /** The current route's DNS name, for messages (the path is the name's labels, reversed). */
  #name(): string {
    return `${this.#c.path[this.#run]!.split('/').reverse().join('.')}.${this.#zone!.name}`;
  }

  uri(owner: string, ttl: number, priority: number, weight: number, entry: Entry, k: number): void {
    this.#line = entry.line;
    // An escaped target is decoded (and its escapes checked) before the owner, as the parser
    // did when it read every record first; a plain one is its bytes, decoded only if needed.
    const target = (entry.flags[k]! & ESCAPED) === 0 ? undefined : decodeString(entry, k, this.#file);
    this.#at(owner);
    if (this.#kind !== ROUTE) this.#notAtRoute('URI');
    this.#routeUri(ttl, priority, weight, target, entry, k);
  }

  txt(owner: string, ttl: number, entry: Entry, k: number): void {
    this.#line = entry.line;
    // The strings are checked before the owner, as they were when the parser read them all first.
    const policy = usualTxtPolicy(entry, k);
    const strings = policy === NO_TXT ? txtStrings(entry, k, this.#file) : undefined;
    this.#at(owner);
    if (this.#kind === ROUTE) this.#routeTxt(ttl, policy, strings);
    else if (this.#kind === META) this.#metaTxt(strings ?? txtStrings(entry, k, this.#file));
    else if (this.#kind === EPOCH) this.#epochTxt(strings ?? txtStrings(entry, k, this.#file));
    else this.#notAtRoute('TXT');
  }

  other({ record, otherType, owner, line }: ParsedLine): void {
    this.#line = line;
    this.#at(owner);
    if (record === undefined) {
      this.#fail(
        `type ${echo(otherType ?? '')} is not supported at ${owner.toLowerCase()}; psarn zones hold only SOA, NS, URI, TXT and CNAME`,
      );
    }
    if (this.#kind === ROUTE) {
      if (record.type === 'URI') this.#routeUri(record.ttl, record.priority, record.weight, record.target);
      else if (record.type === 'TXT') this.#routeTxt(record.ttl, NO_TXT, record.strings);
      else this.#routeOther(record);
    } else if (this.#kind === META && record.type === 'TXT') this.#metaTxt(record.strings);
    else if (this.#kind === EPOCH && record.type === 'TXT') this.#epochTxt(record.strings);
    else if (this.#kind === EPOCH || this.#kind === META) this.#notAtRoute(record.type);
    else addApexRecord(this.#zone!, record, line, (message) => this.#fail(message));
  }

  /** Moves to `owner` when it is not the current owner. */
  #at(owner: string): void {
    if (owner === this.#owner) return;
    this.#locate(owner);
    this.#owner = owner;
  }

  #locate(owner: string): void {
    const name = owner.toLowerCase();
    let zone = this.#zone;
    let rel: string;
    const z = zone?.name;
    if (z !== undefined && name.endsWith(z) && (name.length === z.length || name[name.length - z.length - 1] === '.')) {
      // The same zone as the previous owner: no need to take the name apart.
      rel = name.slice(0, Math.max(0, name.length - z.length - 1));
    } else {
      const ns = this.#ns;
      const suffix = this.#suffix;
      if (!name.endsWith(suffix))
        this.#fail(`${name} is outside the namespace ${ns}; psarn serves only names under it`);
      const labels = name.slice(0, -suffix.length).split('.');
      if (labels.length < 3) this.#fail(`${name} is above every zone; a zone is ACCOUNT.REGION.PARTITION.${ns}`);
      const apex = `${labels.slice(-3).join('.')}${suffix}`;
      zone = this.#zones.get(apex);
      if (zone === undefined) {
        try {
          parseZoneName(apex, ns);
        } catch (err) {
          this.#fail(`${name} is in no valid zone: ${(err as Error).message}`);
        }
        zone = { name: apex, soaLine: 0, runs: new IntColumn(16) };
        this.#zones.set(apex, zone);
      }
      rel = labels.slice(0, -3).join('.');
    }
    const found = zone!;
    const previous = this.#zone;
    this.#zone = found;
    if (rel === '') this.#kind = APEX;
    else if (rel === EPOCH_LABEL) this.#kind = EPOCH;
    else {
      const path = routePath(rel);
      if (path !== undefined) {
        this.#kind = ROUTE;
        this.#run = this.#c.addRun(path);
        found.runs.push(this.#run);
        return;
      }
      const of = rel.startsWith(META_PREFIX) ? routePath(rel.slice(META_PREFIX.length)) : undefined;
      if (of === undefined) {
        this.#fail(`${name} is not a route name: labels must be 1..8 psARN segments (letters, digits, - or _)`);
      }
      // Right after its route (as export writes it), the metadata joins the route's run; else a
      // run of its own, merged with the route's (finish).
      const sameRoute =
        previous === found && (this.#kind === ROUTE || this.#kind === META) && this.#c.path[this.#run] === of;
      this.#kind = META;
      if (!sameRoute) {
        this.#run = this.#c.addRun(of);
        found.runs.push(this.#run);
      }
    }
  }

  #notAtRoute(type: string): never {
    const zone = this.#zone!;
    if (this.#kind === META)
      this.#fail(`${META_PREFIX}${this.#name()} holds only the route's metadata as TXT; remove the ${type} record`);
    if (this.#kind === EPOCH)
      this.#fail(`${EPOCH_LABEL}.${zone.name} holds only the epoch TXT; remove the ${type} record`);
    this.#fail(`the apex ${zone.name} holds only SOA and NS; put the ${type} record at a route name below it`);
  }

  #routeTtl(ttl: number): void {
    if (ttl > MAX_ROUTE_TTL)
      this.#fail(`TTL ${ttl} at ${this.#name()} is over ${MAX_ROUTE_TTL} (48 h), the route maximum`);
  }

  /**
   * `target`: the decoded text, or undefined when it is token k of `entry` as it stands (no
   * escapes): the file's bytes then stand for it, and a plain ARN is checked on them.
   */
  #routeUri(ttl: number, priority: number, weight: number, target: string | undefined, entry?: Entry, k = 0): void {
    const c = this.#c;
    const run = this.#run;
    this.#routeTtl(ttl);
    if (priority > 65535 || weight > 65535 || priority < 0 || weight < 0) {
      this.#fail(`URI at ${this.#name()}: priority and weight must be 0..65535`);
    }
    // RFC 2181 §5.2: one TTL for the RRset, the smallest of its records.
    if (c.uriLine.a[run] === 0) {
      c.uriLine.a[run] = this.#line;
      c.uriTtl.a[run] = ttl;
    } else if (ttl < c.uriTtl.a[run]!) c.uriTtl.a[run] = ttl;
    const src = entry?.src;
    const start = target === undefined ? entry!.start[k]! : -1;
    const end = target === undefined ? entry!.end[k]! : -1;
    // An RRset is a set (RFC 2181 §5): an exact duplicate is dropped. Sets are small (one DNS message).
    const first = c.firstTarget.a[run]!;
    const count = c.targetCount.a[run]!;
    for (let t = first; t < first + count; t++) {
      if (c.weight.a[t] !== weight || c.priority.a[t] !== priority) continue;
      const same =
        start >= 0 && c.start.a[t]! >= 0 && c.src === src
          ? sameBytes(src!, start, end, c.start.a[t]!, c.end.a[t]!)
          : c.targetText(t) === (target ?? src!.toString(entry!.encoding, start, end));
      if (same) return;
    }
    if (target !== undefined || entry!.encoding !== 'latin1' || !isPlainArn(src!, start, end)) {
      const text = target ?? src!.toString(entry!.encoding, start, end);
      try {
        validateTarget(text);
      } catch (err) {
        this.#fail(`URI at ${this.#name()}: ${(err as Error).message}`);
      }
    }
    let id: number;
    if (target === undefined) {
      c.src = src;
      c.encoding = entry!.encoding;
      id = c.start.push(start);
      c.end.push(end);
    } else {
      id = c.start.push(-1);
      c.end.push(-1);
      c.text.set(id, target);
    }
    c.weight.push(weight);
    c.priority.push(priority);
    c.targetCount.a[run] = count + 1;
    if (id !== first + count) throw new Error(`bug: target ${id} of run ${run} is not next to its others`);
  }

  /** `policy`: from the usual TXT's bytes; else NO_TXT and the strings. */
  #routeTxt(ttl: number, policy: number, strings: string[] | undefined): void {
    const c = this.#c;
    const run = this.#run;
    this.#routeTtl(ttl);
    const first = c.txtLine.a[run]!;
    if (first > 0) this.#fail(`second TXT at ${this.#name()} (first on line ${first}); a route has one TXT`);
    if (strings !== undefined) {
      let txt: RouteTxt | undefined;
      try {
        txt = parseRouteTxt(strings);
      } catch (err) {
        this.#fail(`TXT at ${this.#name()}: ${(err as Error).message}`);
      }
      if (`v=${txt.version}` !== TXT_VERSION) this.#fail(`TXT at ${this.#name()} must start with "${TXT_VERSION}"`);
      // The TXT's epoch is the one it was answered under; the zone's epoch comes from `_epoch`.
      policy = txt.policy === 'fanout' ? FANOUT : WEIGHTED;
    }
    c.policy.a[run] = policy;
    c.txtLine.a[run] = this.#line;
  }

  #routeOther(rec: DnsRecord): void {
    if (rec.type !== 'CNAME') {
      this.#fail(
        `${rec.type} at ${this.#name()}: psarn zones have no delegations or sub-zones; SOA and NS belong at ${this.#zone!.name}`,
      );
    }
    this.#routeTtl(rec.ttl);
    const c = this.#c;
    const first = c.cname.get(this.#run);
    if (first) this.#fail(`second CNAME at ${this.#name()} (first on line ${first.line}); an alias has one target`);
    try {
      nameToPsarn(rec.target, this.#ns);
    } catch (err) {
      this.#fail(`CNAME at ${this.#name()}: the target must be a psARN name: ${(err as Error).message}`);
    }
    c.cname.set(this.#run, { alias: rec.target, ttl: rec.ttl, line: this.#line });
  }

  /** One metadata entry of the current route (meta.ts); a key given twice is an error. */
  #metaTxt(strings: string[]): void {
    let key: string;
    let value: string;
    try {
      [key, value] = metaEntry(strings);
    } catch (err) {
      this.#fail(`TXT at ${META_PREFIX}${this.#name()}: ${(err as Error).message}`);
    }
    const c = this.#c;
    let meta = c.meta.get(this.#run);
    if (meta === undefined) {
      meta = { entries: {}, lines: new Map() };
      c.meta.set(this.#run, meta);
    }
    const first = meta.lines.get(key);
    if (first !== undefined) {
      this.#fail(`metadata ${quote(key)} twice at ${META_PREFIX}${this.#name()} (first on line ${first}); keep one`);
    }
    setEntry(meta.entries, key, value);
    meta.lines.set(key, this.#line);
  }

  #epochTxt(strings: string[]): void {
    const zone = this.#zone!;
    const name = `${EPOCH_LABEL}.${zone.name}`;
    if (zone.epoch !== undefined) this.#fail(`second TXT at ${name}; the epoch is one "epoch=<n>" record`);
    let epoch: number | undefined;
    try {
      epoch = parseRouteTxt(strings).epoch;
    } catch (err) {
      this.#fail((err as Error).message);
    }
    if (epoch === undefined) this.#fail(`${name} TXT must be "epoch=<n>"`);
    zone.epoch = epoch;
  }

  /**
   * A rule that a later run of an owner broke on an earlier line than `err`'s: a record that
   * came back to its route after other names is checked against the route's earlier records
   * only when the runs are merged. The error the whole file would give first, if not `err`.
   */
  earlierError(err: ZoneFileError): ZoneFileError | undefined {
    let first: ZoneFileError | undefined;
    for (const zone of this.#zones.values()) {
      const { lineError } = this.#merge(zone);
      if (
        lineError !== undefined &&
        lineError.line < err.line &&
        (first === undefined || lineError.line < first.line)
      ) {
        first = lineError;
      }
    }
    return first;
  }

  /**
   * The zones, in the order the file first named them; each zone's routes in path order.
   * @throws ZoneFileError for the earliest line at fault.
   */
  finish(): ZoneImport[] {
    const out: ZoneImport[] = [];
    let first: ZoneFileError | undefined;
    let firstLate: ZoneFileError | undefined;
    for (const zone of this.#zones.values()) {
      const { runs, lineError, lateError } = this.#merge(zone);
      if (lineError !== undefined && (first === undefined || lineError.line < first.line)) first = lineError;
      if (lateError !== undefined && (firstLate === undefined || lateError.line < firstLate.line))
        firstLate = lateError;
      const content: ZoneImport = { name: zone.name, routes: new ColumnRoutes(this.#c, runs) };
      if (zone.params !== undefined) content.params = zone.params;
      if (zone.serial !== undefined) content.serial = zone.serial;
      if (zone.epoch !== undefined) content.epoch = zone.epoch;
      out.push(content);
    }
    // Rules of one record against its route's earlier ones first (they name the record's
    // line), then what needs the whole route (a CNAME beside other data, a TXT without URI).
    const error = first ?? firstLate;
    if (error !== undefined) throw error;
    return out;
  }

  /**
   * Sorts a zone's runs by path (file order among runs of one route) and merges the runs of a
   * route into its first. `lineError`: the earliest record that broke a rule of its route's
   * earlier records; `lateError`: the earliest route that is wrong as a whole.
   */
  #merge(zone: ZoneAcc): { runs: number[]; lineError?: ZoneFileError; lateError?: ZoneFileError } {
    const c = this.#c;
    const paths = c.path;
    const n = zone.runs.length;
    const ids = new Array<number>(n);
    for (let i = 0; i < n; i++) ids[i] = zone.runs.a[i]!;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = paths[ids[i - 1]!]! < paths[ids[i]!]!;
    if (!sorted) {
      // Ids grow in file order: the tie-break keeps a route's runs in file order.
      ids.sort((a, b) => {
        const pa = paths[a]!;
        const pb = paths[b]!;
        return pa < pb ? -1 : pa > pb ? 1 : a - b;
      });
    }
    let lineError: ZoneFileError | undefined;
    let lateError: ZoneFileError | undefined;
    const runs: number[] = [];
    for (let i = 0; i < n; ) {
      const run = ids[i]!;
      let j = i + 1;
      for (; j < n && paths[ids[j]!] === paths[run]; j++) {
        const error = this.#mergeRun(zone, run, ids[j]!);
        if (error !== undefined && (lineError === undefined || error.line < lineError.line)) lineError = error;
      }
      i = j;
      const error = this.#wholeRouteError(zone, run);
      if (error !== undefined) {
        if (lateError === undefined || error.line < lateError.line) lateError = error;
      } else runs.push(run);
    }
    return { runs, lineError, lateError };
  }

  /**
   * Adds a later run's records to a route's first run, as if they had come right after it
   * (they did, in file order). Returns the error the later run's first offending record gives.
   */
  #mergeRun(zone: ZoneAcc, into: number, later: number): ZoneFileError | undefined {
    const c = this.#c;
    const name = () => `${c.path[into]!.split('/').reverse().join('.')}.${zone.name}`;
    let error: ZoneFileError | undefined;
    const note = (line: number, message: string) => {
      if (error === undefined || line < error.line) error = new ZoneFileError(message, line, this.#file);
    };
    const txtLine = c.txtLine.a[later]!;
    if (txtLine > 0) {
      const firstTxt = c.txtLine.a[into]!;
      if (firstTxt > 0) note(txtLine, `second TXT at ${name()} (first on line ${firstTxt}); a route has one TXT`);
      else {
        c.txtLine.a[into] = txtLine;
        c.policy.a[into] = c.policy.a[later]!;
      }
    }
    const laterMeta = c.meta.get(later);
    if (laterMeta !== undefined) {
      const meta = c.meta.get(into) ?? { entries: {}, lines: new Map<string, number>() };
      c.meta.set(into, meta);
      for (const [key, line] of laterMeta.lines) {
        const first = meta.lines.get(key);
        if (first !== undefined) {
          note(line, `metadata ${quote(key)} twice at ${META_PREFIX}${name()} (first on line ${first}); keep one`);
        } else {
          setEntry(meta.entries, key, laterMeta.entries[key]!);
          meta.lines.set(key, line);
        }
      }
    }
    const cname = c.cname.get(later);
    if (cname !== undefined) {
      const firstCname = c.cname.get(into);
      if (firstCname !== undefined) {
        note(cname.line, `second CNAME at ${name()} (first on line ${firstCname.line}); an alias has one target`);
      } else c.cname.set(into, cname);
    }
    const targets = c.targetsOf(into);
    for (const t of c.targetsOf(later)) {
      const same = (u: number) =>
        c.weight.a[u] === c.weight.a[t] && c.priority.a[u] === c.priority.a[t] && c.targetText(u) === c.targetText(t);
      if (!targets.some(same)) targets.push(t);
    }
    c.merged.set(into, targets);
    const uriLine = c.uriLine.a[later]!;
    if (uriLine > 0) {
      if (c.uriLine.a[into] === 0) {
        c.uriLine.a[into] = uriLine;
        c.uriTtl.a[into] = c.uriTtl.a[later]!;
      } else c.uriTtl.a[into] = Math.min(c.uriTtl.a[into]!, c.uriTtl.a[later]!);
    }
    return error;
  }

  /** RFC 1034 §3.6.2: a CNAME stands alone; a TXT needs URI records beside it. */
  #wholeRouteError(zone: ZoneAcc, run: number): ZoneFileError | undefined {
    const c = this.#c;
    const name = () => `${c.path[run]!.split('/').reverse().join('.')}.${zone.name}`;
    const cname = c.cname.get(run);
    const hasTargets = c.targetsOf(run).length > 0;
    if (cname !== undefined) {
      const txtLine = c.txtLine.a[run]!;
      const other = hasTargets ? c.uriLine.a[run]! : txtLine > 0 ? txtLine : undefined;
      if (other === undefined) return undefined;
      return new ZoneFileError(
        `CNAME at ${name()} beside other data (line ${other}); an alias holds nothing else (RFC 1034 §3.6.2)`,
        cname.line,
        this.#file,
      );
    }
    if (!hasTargets) {
      const txtLine = c.txtLine.a[run]!;
      const meta = c.meta.get(run);
      if (txtLine === 0 && meta !== undefined) {
        return new ZoneFileError(
          `metadata at ${META_PREFIX}${name()} belongs to no route: the file has no URI or CNAME at ${name()}`,
          Math.min(...meta.lines.values()),
          this.#file,
        );
      }
      return new ZoneFileError(
        `TXT at ${name()} has no URI records; add the route's targets as URI`,
        txtLine,
        this.#file,
      );
    }
    return undefined;
  }
}

/** entries[key] = value, as an own property even for `__proto__` (as JSON.parse makes it). */
function setEntry(entries: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__')
    Object.defineProperty(entries, key, { value, enumerable: true, writable: true, configurable: true });
  else entries[key] = value;
}

function sameBytes(src: Buffer, start: number, end: number, start2: number, end2: number): boolean {
  if (end - start !== end2 - start2) return false;
  for (let i = 0; i < end - start; i++) if (src[start + i] !== src[start2 + i]) return false;
  return true;
}

/** Room for the longest path: MAX_SEGMENTS labels of MAX_SEGMENT_LENGTH and the slashes between. */
const pathBytes = Buffer.alloc(MAX_SEGMENTS * (MAX_SEGMENT_LENGTH + 1));

/**
 * The route path of the labels below a zone apex, `route7.svc1` -> `svc1/route7`, or undefined
 * when they are not 1..8 psARN segments: labelsToPath's rule (a differential test holds them
 * together), in one pass over the name and one string, where split, labelsToPath and join cost
 * ~1.5 s for 1M routes.
 */
export function routePath(rel: string): string | undefined {
  let out = 0;
  let labels = 0;
  let end = rel.length;
  for (let i = end - 1; i >= -1; i--) {
    if (i >= 0 && rel.charCodeAt(i) !== 46 /* . */) continue;
    const length = end - i - 1;
    if (length < 1 || length > MAX_SEGMENT_LENGTH || ++labels > MAX_SEGMENTS) return undefined;
    const first = rel.charCodeAt(i + 1);
    if (first === 45 /* - */ || first === 95 /* _ */) return undefined;
    if (out > 0) pathBytes[out++] = 47; // '/'
    for (let k = i + 1; k < end; k++) {
      let c = rel.charCodeAt(k);
      if (c >= 65 && c <= 90) c += 32;
      else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95)) return undefined;
      pathBytes[out++] = c;
    }
    end = i;
  }
  return pathBytes.toString('latin1', 0, out);
}

/**
 * WEIGHTED or FANOUT when tokens k.. of the entry are the TXT psarn writes, `"v=psarn1"
 * "policy=weighted|fanout"` and maybe `"epoch=N"` (1 to 15 digits), read from their bytes;
 * NO_TXT for any other TXT (parseRouteTxt then reads it, with the same result for these).
 */
function usualTxtPolicy(entry: Entry, k: number): number {
  const n = entry.count - k;
  if (n !== 2 && n !== 3) return NO_TXT;
  for (let i = k; i < entry.count; i++) if ((entry.flags[i]! & ESCAPED) !== 0) return NO_TXT;
  if (!entry.equals(k, TXT_VERSION)) return NO_TXT;
  const policy = entry.equals(k + 1, 'policy=weighted') ? WEIGHTED : entry.equals(k + 1, 'policy=fanout') ? FANOUT : 0;
  if (policy === NO_TXT || n === 2) return policy;
  // "epoch=" and 1..15 digits (parseRouteTxt's rule).
  const start = entry.start[k + 2]!;
  const digits = entry.end[k + 2]! - start - 6;
  if (digits < 1 || digits > 15 || entry.src.toString('latin1', start, start + 6) !== 'epoch=') return NO_TXT;
  for (let i = start + 6; i < entry.end[k + 2]!; i++) {
    const d = entry.src[i]!;
    if (d < 48 || d > 57) return NO_TXT;
  }
  return policy;
}

function addApexRecord(zone: ZoneAcc, rec: DnsRecord, line: number, fail: (message: string) => never): void {
  if (rec.type === 'SOA') {
    // RFC 1035 §5.2: exactly one SOA per zone.
    if (zone.serial !== undefined) fail(`second SOA for ${zone.name} (first on line ${zone.soaLine}); keep one`);
    zone.soaLine = line;
    zone.serial = rec.serial;
    zone.params = {
      ...zone.params,
      soaTtl: rec.ttl,
      mname: rec.mname,
      rname: rec.rname,
      refresh: rec.refresh,
      retry: rec.retry,
      expire: rec.expire,
      minimum: rec.minimum,
    };
    return;
  }
  if (rec.type === 'NS') {
    zone.params ??= {};
    const params = zone.params;
    params.nameservers ??= [];
    if (!params.nameservers.includes(rec.target)) params.nameservers.push(rec.target);
    // RFC 2181 §5.2: one TTL per RRset; take the smallest, as for URI.
    params.nsTtl = params.nsTtl === undefined ? rec.ttl : Math.min(params.nsTtl, rec.ttl);
    return;
  }
  fail(`the apex ${zone.name} holds only SOA and NS; put the ${rec.type} record at a route name below it`);
}
