/**
 * The graph as a Mermaid flowchart (docs/design.md#the-graph), for a Markdown file or a wiki:
 * `flowchart LR`, a subgraph per zone, callers as stadiums, routes as boxes, aliases as rounded
 * boxes, targets as subroutines; classDefs mark rollouts, holds, aliases and missing routes. Pure.
 *
 * Mermaid ids are a small grammar with reserved words (`end`, `graph`, `style`...), so every
 * node gets a generated id (`n0`, `n1`, ... in the graph's order; zones `z0`, ...) and its real
 * id only shows in its label. Labels are quoted strings in which `"` would end the string and
 * `#` starts an entity code, so every character but letters, digits, space and `.,:/_@=+%-` is
 * written as Mermaid's entity code `#<decimal>;` (https://mermaid.js.org/syntax/flowchart.html
 * "Entity codes to escape characters"); line breaks are the `<br>` Mermaid reads.
 */
import { byZone, edgeLabel, nodeLines } from './labels.js';
import type { Graph, GraphEdge, GraphNode } from './types.js';

/** A Mermaid quoted label of printable lines: every character outside a safe set as `#NNN;`. */
export function mermaidLabel(lines: readonly string[]): string {
  const esc = (line: string) => {
    let out = '';
    for (const ch of line) out += /^[A-Za-z0-9 .,:/_@=+%-]$/.test(ch) ? ch : `#${ch.codePointAt(0)};`;
    return out;
  };
  return `"${lines.map(esc).join('<br>')}"`;
}

const SHAPES: Record<GraphNode['kind'], [string, string]> = {
  caller: ['([', '])'],
  route: ['[', ']'],
  alias: ['(', ')'],
  target: ['[[', ']]'],
};

/** Styles of the marks; each class is used only when a node has it. */
const CLASS_DEFS: Record<string, string> = {
  rollout: 'fill:#fff3e0,stroke:#d9822b,stroke-width:2px',
  hold: 'fill:#fde8e8,stroke:#b22222,stroke-width:2px',
  alias: 'stroke-dasharray:5 5',
  missing: 'stroke:#888888,color:#888888,stroke-dasharray:2 2',
};

function classOf(node: GraphNode): string | undefined {
  if (node.hold !== undefined) return 'hold';
  if (node.rollout !== undefined) return 'rollout';
  if (node.missing) return 'missing';
  if (node.kind === 'alias') return 'alias';
  return undefined;
}

/**
 * @example renderMermaid(buildGraph(store, { namespace })) // 'flowchart LR\n  n0(["checkout"])\n...'
 */
export function renderMermaid(graph: Graph): string {
  const ids = new Map<string, string>();
  graph.nodes.forEach((node, i) => {
    ids.set(node.id, `n${i}`);
  });
  const nodeLine = (node: GraphNode) => {
    const [open, close] = SHAPES[node.kind];
    return `${ids.get(node.id)}${open}${mermaidLabel(nodeLines(node))}${close}`;
  };
  const out = ['flowchart LR'];
  const { zones, loose } = byZone(graph.nodes);
  for (const node of loose) out.push(`  ${nodeLine(node)}`);
  zones.forEach(([zone, nodes], i) => {
    out.push(`  subgraph z${i}[${mermaidLabel([`zone ${zone}`])}]`);
    for (const node of nodes) out.push(`    ${nodeLine(node)}`);
    out.push('  end');
  });
  for (const edge of graph.edges) {
    const from = ids.get(edge.from);
    const to = ids.get(edge.to);
    // Every edge's ends are nodes of the graph (buildGraph); skip rather than invent one.
    if (from === undefined || to === undefined) continue;
    out.push(`  ${from} ${arrow(edge)}|${mermaidLabel([edgeLabel(edge)])}| ${to}`);
  }
  const classes = new Map<string, string[]>();
  for (const node of graph.nodes) {
    const c = classOf(node);
    if (c !== undefined) classes.set(c, [...(classes.get(c) ?? []), ids.get(node.id)!]);
  }
  for (const [name, style] of Object.entries(CLASS_DEFS)) {
    const members = classes.get(name);
    if (members === undefined) continue;
    out.push(`  classDef ${name} ${style}`);
    out.push(`  class ${members.join(',')} ${name}`);
  }
  return `${out.join('\n')}\n`;
}

/** Solid for calls and the traffic's targets; dotted for aliases, failover and drained targets. */
function arrow(edge: GraphEdge): string {
  if (edge.kind === 'alias') return '-.->';
  if (edge.kind === 'routes' && edge.role !== 'primary') return '-.->';
  return '-->';
}
