/**
 * The graph as Graphviz DOT (docs/design.md#the-graph): `psarn graph | dot -Tsvg > map.svg`.
 * Left to right, a cluster per zone; callers as ellipses, routes as boxes, aliases as dashed
 * boxes, targets as components; routes in a rollout orange, on hold red, each with a label line
 * saying so. Pure.
 *
 * Every id is quoted: psARNs hold ':' and '/', and caller ids are untrusted. In a quoted DOT
 * string only `\"` is an escape (https://graphviz.org/doc/info/lang.html), so an id is written
 * with `\` doubled, `"` as `\"` and control characters as `\xNN`: distinct ids stay distinct,
 * and nothing ends the string early. Labels are escStrings, where Graphviz also reads `\n`,
 * `\N`, `\G`, ...: their text is made printable first, then `\` is doubled, so a caller named
 * `\N` shows as `\N` and not as the node's name.
 */
import { byZone, edgeLabel, nodeLines } from './labels.js';
import type { Graph, GraphEdge, GraphNode } from './types.js';

/** A DOT quoted id: injective, one line. */
export function dotId(id: string): string {
  let out = '"';
  for (const ch of id) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xdfff)) {
      out += `\\x${code.toString(16).padStart(2, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** A DOT label (escString) of already printable lines, centred, one per line. */
export function dotLabel(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')).join('\\n')}"`;
}

const SHAPES: Record<GraphNode['kind'], string> = {
  caller: 'shape=ellipse',
  route: 'shape=box, style="rounded"',
  alias: 'shape=box, style="rounded,dashed"',
  target: 'shape=component',
};

function nodeLine(node: GraphNode): string {
  let attrs = SHAPES[node.kind];
  if (node.hold !== undefined) {
    attrs = `${attrs.replace(/style="([^"]*)"/, 'style="$1,filled"')}, color="firebrick", fillcolor="#fde8e8"`;
  } else if (node.rollout !== undefined) {
    attrs = `${attrs.replace(/style="([^"]*)"/, 'style="$1,filled"')}, color="darkorange", fillcolor="#fff3e0"`;
  } else if (node.missing) {
    attrs = `${attrs}, color="gray50", fontcolor="gray50"`;
  }
  return `${dotId(node.id)} [${attrs}, label=${dotLabel(nodeLines(node))}];`;
}

function edgeLine(edge: GraphEdge): string {
  const label = dotLabel([edgeLabel(edge)]);
  let attrs: string;
  if (edge.kind === 'calls') attrs = `color="gray40", label=${label}`;
  else if (edge.kind === 'alias') attrs = `style=dashed, label=${label}`;
  else {
    // The thicker the edge, the more calls the target gets; failover and drained ones dotted.
    const width = edge.role === 'primary' ? 1 + 2 * (edge.share ?? 0) : 1;
    attrs = `label=${label}, penwidth=${Math.round(width * 10) / 10}${edge.role === 'primary' ? '' : ', style=dotted'}`;
  }
  return `${dotId(edge.from)} -> ${dotId(edge.to)} [${attrs}];`;
}

/**
 * @example renderDot(buildGraph(store, { namespace })) // 'digraph psarn {\n  rankdir=LR; ...'
 */
export function renderDot(graph: Graph): string {
  const out = [
    'digraph psarn {',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const { zones, loose } = byZone(graph.nodes);
  for (const node of loose) out.push(`  ${nodeLine(node)}`);
  for (const [zone, nodes] of zones) {
    out.push(`  subgraph ${dotId(`cluster_${zone}`)} {`);
    out.push(`    label=${dotLabel([`zone ${zone}`])};`, '    style="rounded"; color="gray60";');
    for (const node of nodes) out.push(`    ${nodeLine(node)}`);
    out.push('  }');
  }
  for (const edge of graph.edges) out.push(`  ${edgeLine(edge)}`);
  out.push('}');
  return `${out.join('\n')}\n`;
}
