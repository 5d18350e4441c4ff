/**
 * The graph drawn with cytoscape (bundled, docs/design.md#web-console): callers → psARNs (aliases,
 * then routes) → targets, left to right in columns, each column ordered to cross few edges.
 * Labels go on a canvas, never into HTML. The ids of the nodes drawn are mirrored in the
 * container's `data-nodes` attribute (JSON), for tests and scripts that read the page.
 */
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import type { Graph, GraphEdge, GraphNode } from '../map/types.js';
import { pct } from './dom.js';

const COLUMN: Record<GraphNode['kind'], number> = { caller: 0, alias: 1, route: 2, target: 3 };
const COLUMN_GAP = 320;
const ROW_GAP = 56;

/** What a long ARN is shown as on a node: its last part (the whole is in the details on a tap). */
function short(node: GraphNode): string {
  if (node.kind === 'caller') return node.label;
  if (node.kind === 'target') {
    const parts = node.label.split(/[:/]/).filter((p) => p !== '');
    return parts[parts.length - 1] ?? node.label;
  }
  return node.label.split(':').slice(5).join(':') || node.label;
}

function nodeLabel(node: GraphNode): string {
  const lines = [short(node)];
  if (node.kind === 'route') lines.push(`${node.policy ?? ''} · ttl ${node.ttl ?? '?'}`);
  if (node.rollout !== undefined) lines.push(`rollout ${node.rollout.step} ${node.rollout.status}`);
  if (node.hold !== undefined) lines.push('on hold');
  return lines.join('\n');
}

const edgeId = (e: GraphEdge): string => `${e.kind}|${e.from}|${e.to}`;

function edgeLabel(e: GraphEdge): string {
  if (e.kind === 'routes') return e.share === undefined ? '' : e.role === 'failover' ? 'failover' : pct(e.share);
  if (e.kind === 'calls') return e.lookups === undefined ? '' : `${e.lookups}`;
  return 'alias';
}

/** Preset positions: a column per kind; in each column, nodes sorted by the mean row of their neighbours to the left. */
function positions(graph: Graph): Map<string, { x: number; y: number }> {
  const columns: GraphNode[][] = [[], [], [], []];
  for (const n of graph.nodes) columns[COLUMN[n.kind]]!.push(n);
  const row = new Map<string, number>();
  const into = new Map<string, string[]>();
  for (const e of graph.edges) into.set(e.to, [...(into.get(e.to) ?? []), e.from]);
  const out: Map<string, { x: number; y: number }> = new Map();
  columns.forEach((nodes, c) => {
    const key = (n: GraphNode): number => {
      const from = (into.get(n.id) ?? []).map((id) => row.get(id)).filter((r): r is number => r !== undefined);
      return from.length === 0 ? Number.POSITIVE_INFINITY : from.reduce((a, b) => a + b, 0) / from.length;
    };
    const sorted = [...nodes].sort((a, b) => key(a) - key(b) || a.label.localeCompare(b.label));
    const top = -((sorted.length - 1) * ROW_GAP) / 2;
    sorted.forEach((n, i) => {
      row.set(n.id, i);
      out.set(n.id, { x: c * COLUMN_GAP, y: top + i * ROW_GAP });
    });
  });
  return out;
}

function elements(graph: Graph): ElementDefinition[] {
  const at = positions(graph);
  return [
    ...graph.nodes.map(
      (n): ElementDefinition => ({
        group: 'nodes',
        data: {
          id: n.id,
          label: nodeLabel(n),
          kind: n.kind,
          rollout: n.rollout ? 1 : 0,
          hold: n.hold ? 1 : 0,
          missing: n.missing ? 1 : 0,
        },
        position: at.get(n.id) ?? { x: 0, y: 0 },
      }),
    ),
    ...graph.edges.map(
      (e): ElementDefinition => ({
        group: 'edges',
        data: {
          id: edgeId(e),
          source: e.from,
          target: e.to,
          kind: e.kind,
          label: edgeLabel(e),
          width: 1 + 5 * (e.share ?? 0.2),
        },
      }),
    ),
  ];
}

const STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'text-wrap': 'wrap',
      'text-valign': 'center',
      'text-halign': 'center',
      'font-size': 11,
      'font-family': 'system-ui, sans-serif',
      shape: 'round-rectangle',
      width: 200,
      height: 40,
      'background-color': '#e2e8f0',
      'border-width': 1,
      'border-color': '#94a3b8',
      color: '#0f172a',
    },
  },
  { selector: 'node[kind = "caller"]', style: { 'background-color': '#dbeafe', 'border-color': '#3b82f6' } },
  { selector: 'node[kind = "route"]', style: { 'background-color': '#dcfce7', 'border-color': '#16a34a' } },
  { selector: 'node[kind = "alias"]', style: { 'background-color': '#f1f5f9', 'border-style': 'dashed' } },
  { selector: 'node[kind = "target"]', style: { 'background-color': '#ffedd5', 'border-color': '#ea580c' } },
  {
    selector: 'node[missing = 1]',
    style: { 'background-color': '#fee2e2', 'border-color': '#dc2626', 'border-style': 'dotted' },
  },
  { selector: 'node[rollout = 1]', style: { 'border-width': 3, 'border-color': '#ca8a04', 'border-style': 'double' } },
  { selector: 'node[hold = 1]', style: { 'border-width': 3, 'border-color': '#dc2626' } },
  { selector: 'node:selected', style: { 'overlay-opacity': 0.15 } },
  {
    selector: 'edge',
    style: {
      width: 'data(width)',
      'curve-style': 'bezier',
      'target-arrow-shape': 'triangle',
      'line-color': '#94a3b8',
      'target-arrow-color': '#94a3b8',
      label: 'data(label)',
      'font-size': 10,
      'text-background-color': '#ffffff',
      'text-background-opacity': 1,
      'text-background-padding': '2px',
    },
  },
  { selector: 'edge[kind = "calls"]', style: { width: 1, 'line-color': '#60a5fa', 'target-arrow-color': '#60a5fa' } },
  { selector: 'edge[kind = "alias"]', style: { 'line-style': 'dashed', width: 1 } },
] as cytoscape.StylesheetJson;

export class GraphView {
  readonly #el: HTMLElement;
  #cy: Core | undefined;
  #shape = '';

  constructor(
    el: HTMLElement,
    readonly onTap: (node: GraphNode) => void,
  ) {
    this.#el = el;
  }

  #nodes = new Map<string, GraphNode>();

  /** Draws `graph`: the same nodes and edges keep their places (data updated); a new shape is laid out again. */
  show(graph: Graph): void {
    this.#nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    const shape = JSON.stringify([graph.nodes.map((n) => n.id).sort(), graph.edges.map(edgeId).sort()]);
    const els = elements(graph);
    if (this.#cy === undefined) {
      this.#cy = cytoscape({
        container: this.#el,
        elements: els,
        style: STYLE,
        layout: { name: 'preset', fit: true, padding: 24 },
        minZoom: 0.1,
        maxZoom: 3,
      });
      this.#cy.on('tap', 'node', (event) => {
        const node = this.#nodes.get(event.target.id() as string);
        if (node !== undefined) this.onTap(node);
      });
    } else if (shape !== this.#shape) {
      const cy = this.#cy;
      cy.batch(() => {
        cy.elements().remove();
        cy.add(els);
      });
      cy.fit(undefined, 24);
    } else {
      const cy = this.#cy;
      cy.batch(() => {
        for (const e of els) cy.getElementById(e.data.id!).data(e.data);
      });
    }
    this.#shape = shape;
    this.#el.dataset.nodes = JSON.stringify(this.#cy.nodes().map((n) => n.id()));
  }
}
