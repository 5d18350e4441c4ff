/**
 * `psarn dig` output, pure: a DecodedMessage (plus where and when it came from) as dig-like
 * text, `+short` lines, or one JSON object, with a psARN summary of the route it answers.
 */

import { edgeShares, type ShareRole } from '../map/shares.js';
import { nameToPsarn } from '../psarn/name.js';
import { formatPsarn } from '../psarn/psarn.js';
import { parseRouteTxt, TXT_VERSION } from '../psarn/txt.js';
import type { Policy } from '../store/types.js';
import type { DecodedMessage, DecodedRecord } from '../wire/message.js';
import { className, opcodeName, rcodeName, typeName } from '../wire/mnemonics.js';
import type { DnsRecord, TxtRecord, UriRecord } from '../wire/types.js';
import { formatRdata, formatRecord } from '../zonefile/presentation.js';
import { formatShare } from './shares.js';

export interface DigContext {
  /** The dig arguments as typed, for the banner line. */
  args: readonly string[];
  server: { host: string; port: number };
  transport: 'udp' | 'tcp';
  rttMs: number;
  when: Date;
  namespace: string;
}

export interface PsarnSummary {
  /** psARN of the name holding the URI records, or undefined when it is not one. */
  psarn?: string;
  name: string;
  /** CNAME hops in the answer, as psARNs where the names are psARNs. */
  aliases: { from: string; to: string }[];
  policy: Policy;
  /** From the route's TXT; undefined when the reply had no TXT. */
  epoch?: number;
  ttl: number;
  targets: { target: string; priority: number; weight: number; share: number; role: ShareRole }[];
}

function isRaw(r: DecodedRecord): r is Extract<DecodedRecord, { rdata: Buffer }> {
  return 'rdata' in r;
}

/** The rdata in presentation form; unknown types as RFC 3597 `\# len hex`. */
export function recordData(r: DecodedRecord): string {
  if (isRaw(r)) return r.rdata.length === 0 ? '\\# 0' : `\\# ${r.rdata.length} ${r.rdata.toString('hex')}`;
  return formatRdata(r as DnsRecord);
}

export function recordLine(r: DecodedRecord): string {
  if (isRaw(r)) return `${r.name}\t${r.ttl}\t${className(r.class)}\t${typeName(r.typeCode)}\t${recordData(r)}`;
  return formatRecord(r as DnsRecord);
}

function recordType(r: DecodedRecord): string {
  return isRaw(r) ? typeName(r.typeCode) : r.type;
}

/** dig's flag list, in dig's order. */
export function flagList(m: DecodedMessage): string[] {
  const names = ['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const;
  return names.filter((f) => m[f]);
}

function displayName(name: string, namespace: string): string {
  try {
    return formatPsarn(nameToPsarn(name, namespace));
  } catch {
    return name;
  }
}

/** The route the answer describes, when it holds URI records; else undefined. */
export function psarnSummary(m: DecodedMessage, namespace: string): PsarnSummary | undefined {
  const uris = m.answer.filter((r): r is UriRecord & { class: number } => !isRaw(r) && r.type === 'URI');
  const first = uris[0];
  if (first === undefined) return undefined;
  const owner = first.name.toLowerCase();
  const set = uris.filter((r) => r.name.toLowerCase() === owner);
  const txt = [...m.answer, ...m.additional].find(
    (r): r is TxtRecord & { class: number } =>
      !isRaw(r) && r.type === 'TXT' && r.name.toLowerCase() === owner && r.strings[0] === TXT_VERSION,
  );
  let policy: Policy = 'weighted';
  let epoch: number | undefined;
  if (txt) {
    try {
      const parsed = parseRouteTxt(txt.strings);
      policy = parsed.policy ?? 'weighted';
      epoch = parsed.epoch;
    } catch {
      // A TXT we cannot read: show the targets under the default policy.
    }
  }
  const shares = edgeShares(policy, set);
  const aliases = m.answer
    .filter((r) => !isRaw(r) && r.type === 'CNAME')
    .map((r) => ({
      from: displayName(r.name, namespace),
      to: displayName((r as { target: string }).target, namespace),
    }));
  const psarn = displayName(owner, namespace);
  return {
    ...(psarn === owner ? {} : { psarn }),
    name: owner,
    aliases,
    policy,
    ...(epoch === undefined ? {} : { epoch }),
    ttl: Math.min(...set.map((r) => r.ttl)),
    targets: set.map((r, i) => ({
      target: r.target,
      priority: r.priority,
      weight: r.weight,
      share: shares[i]!.share,
      role: shares[i]!.role,
    })),
  };
}

function section(title: string, records: DecodedRecord[]): string[] {
  return records.length === 0 ? [] : ['', `;; ${title} SECTION:`, ...records.map(recordLine)];
}

function summaryLines(s: PsarnSummary): string[] {
  const lines = ['', ';; PSARN SUMMARY:', `; psARN: ${s.psarn ?? `(not a psARN) ${s.name}`}`];
  for (const a of s.aliases) lines.push(`; alias: ${a.from} -> ${a.to}`);
  lines.push(`; policy: ${s.policy}, epoch: ${s.epoch ?? '-'}, ttl: ${s.ttl}`);
  const shares = s.targets.map((t) => formatShare({ share: t.share, role: t.role }));
  const w = Math.max(...shares.map((x) => x.length));
  const pw = Math.max(...s.targets.map((t) => String(t.priority).length));
  const ww = Math.max(...s.targets.map((t) => String(t.weight).length));
  s.targets.forEach((t, i) => {
    lines.push(
      `; ${shares[i]!.padEnd(w)}  priority ${String(t.priority).padEnd(pw)}  weight ${String(t.weight).padEnd(ww)}  ${t.target}`,
    );
  });
  return lines;
}

/** dig's default output. */
export function formatDig(m: DecodedMessage, ctx: DigContext): string {
  const q = m.question[0];
  const arcount = m.additional.length + (m.edns ? 1 : 0);
  const lines = [
    `; <<>> psarn dig <<>> ${ctx.args.join(' ')}`,
    ';; Got answer:',
    `;; ->>HEADER<<- opcode: ${opcodeName(m.opcode)}, status: ${rcodeName(m.rcode)}, id: ${m.id}`,
    `;; flags: ${flagList(m).join(' ')}; QUERY: ${m.question.length}, ANSWER: ${m.answer.length}, AUTHORITY: ${m.authority.length}, ADDITIONAL: ${arcount}`,
  ];
  if (m.edns) {
    lines.push('', ';; OPT PSEUDOSECTION:');
    lines.push(`; EDNS: version: ${m.edns.version}, flags:${m.edns.do ? ' do' : ''}; udp: ${m.edns.udpSize}`);
    for (const o of m.edns.options) lines.push(`; OPT=${o.code}: ${o.data.toString('hex')}`);
  }
  if (q) lines.push('', ';; QUESTION SECTION:', `;${q.name}\t\t${className(q.qclass)}\t${typeName(q.qtype)}`);
  lines.push(
    ...section('ANSWER', m.answer),
    ...section('AUTHORITY', m.authority),
    ...section('ADDITIONAL', m.additional),
  );
  const summary = psarnSummary(m, ctx.namespace);
  if (summary) lines.push(...summaryLines(summary));
  lines.push(
    '',
    `;; Query time: ${Math.round(ctx.rttMs)} msec`,
    `;; SERVER: ${ctx.server.host}#${ctx.server.port}(${ctx.transport.toUpperCase()})`,
    `;; WHEN: ${ctx.when.toUTCString()}`,
    `;; MSG SIZE  rcvd: ${m.size}`,
    '',
  );
  return `${lines.join('\n')}\n`;
}

/** `+short`: the answer rdata, one per line. */
export function formatShort(m: DecodedMessage): string {
  return m.answer.map((r) => `${recordData(r)}\n`).join('');
}

function recordJson(r: DecodedRecord): Record<string, unknown> {
  const base = { name: r.name, ttl: r.ttl, class: className(r.class), type: recordType(r), data: recordData(r) };
  if (isRaw(r)) return base;
  const { name: _n, ttl: _t, type: _y, class: _c, ...fields } = r;
  return { ...base, ...fields };
}

/** `+json`: one object. */
export function digJson(m: DecodedMessage, ctx: DigContext): Record<string, unknown> {
  return {
    status: rcodeName(m.rcode),
    id: m.id,
    flags: flagList(m),
    question: m.question.map((q) => ({ name: q.name, class: className(q.qclass), type: typeName(q.qtype) })),
    answer: m.answer.map(recordJson),
    authority: m.authority.map(recordJson),
    additional: m.additional.map(recordJson),
    ...(m.edns ? { edns: { version: m.edns.version, udpSize: m.edns.udpSize, do: m.edns.do } } : {}),
    psarn: psarnSummary(m, ctx.namespace) ?? null,
    server: `${ctx.server.host}#${ctx.server.port}`,
    transport: ctx.transport,
    rttMs: Math.round(ctx.rttMs * 1000) / 1000,
    size: m.size,
  };
}
