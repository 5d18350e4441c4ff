/**
 * What the renderers (dot.ts, mermaid.ts) write on nodes and edges, as plain text lines: one
 * place decides the words, each renderer only escapes them for its language. Pure.
 */
import { printable } from '../errors.js';
import { percent } from './shares.js';
import type { GraphEdge, GraphNode } from './types.js';

/**
 * The text lines of a node's label. Every value from the store or the network goes through
 * `printable` (control characters, bidirectional overrides and lone surrogates as `\xNN` /
 * `\u{NNNN}`): a caller id is untrusted input and must not break a line or reorder the text.
 */
export function nodeLines(node: GraphNode): string[] {
  const lines = [printable(node.label)];
  if (node.kind === 'route' || node.kind === 'alias') {
    if (node.missing) {
      lines.push('no such route');
    } else {
      const facts = [node.kind === 'alias' ? 'alias' : (node.policy ?? 'weighted'), `ttl ${node.ttl}`];
      if (node.serial !== undefined) facts.push(`serial ${node.serial}`);
      lines.push(facts.join(' · '));
    }
  }
  if (node.rollout !== undefined) {
    const r = node.rollout;
    lines.push(`rollout #${r.id} ${r.status} ${r.step} → ${printable(r.to)}`);
    if (r.gate !== undefined) lines.push(`gate: ${printable(r.gate)}`);
  }
  if (node.hold !== undefined) lines.push(`hold #${node.hold.id} → ${printable(node.hold.queue)}`);
  return lines;
}

/** An edge's label: `90%` (weights as percent), `failover p20`, `drained`, `12 lookups`, `alias`. */
export function edgeLabel(edge: GraphEdge): string {
  switch (edge.kind) {
    case 'calls':
      return `${edge.lookups ?? 0} lookup${edge.lookups === 1 ? '' : 's'}`;
    case 'alias':
      return 'alias';
    case 'routes':
      if (edge.role === 'failover') return `failover p${edge.priority}`;
      if (edge.role === 'drained') return 'drained';
      return percent(edge.share ?? 0);
  }
}

/** Route and alias nodes grouped by zone (sorted), and the other nodes: each renderer draws a cluster per zone. */
export function byZone(nodes: readonly GraphNode[]): { zones: [string, GraphNode[]][]; loose: GraphNode[] } {
  const zones = new Map<string, GraphNode[]>();
  const loose: GraphNode[] = [];
  for (const node of nodes) {
    if (node.zone === undefined) {
      loose.push(node);
      continue;
    }
    const list = zones.get(node.zone) ?? [];
    list.push(node);
    zones.set(node.zone, list);
  }
  return { zones: [...zones.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), loose };
}
