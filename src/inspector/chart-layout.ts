// A machine's chart laid out for SVG: nodes and edges from xstate/graph's toDirectedGraph of its
// definition, positions from elkjs (layered, compound states drawn around their children).
import { createRequire } from 'node:module';
import type { ELK as ElkEngine, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { createMachine } from 'xstate';
import { toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';

export interface ChartNode {
  id: string;
  key: string;
  parent: string | null;
  x: number;
  y: number;
  width: number;
  height: number;
  compound: boolean;
}
export interface ChartEdge {
  id: string;
  source: string;
  target: string;
  label: string;
  points: Array<{ x: number; y: number }>;
}
export interface Chart {
  width: number;
  height: number;
  nodes: ChartNode[];
  edges: ChartEdge[];
}

// elkjs is CommonJS whose types declare an ES default export: load it as what it is.
const ELK = createRequire(import.meta.url)('elkjs/lib/elk.bundled.js') as new () => ElkEngine;
const elk = new ELK();
const cache = new Map<string, Promise<Chart>>();
const MAX_CACHED = 50;
const CHAR_WIDTH = 7;

/** The laid-out chart of a machine definition (its config as JSON text); cached per definition. */
export function chartOf(definition: string): Promise<Chart> {
  let chart = cache.get(definition);
  if (!chart) {
    chart = layout(definition);
    cache.set(definition, chart);
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  }
  return chart;
}

/**
 * A node's outgoing edges: its event transitions (toDirectedGraph's) and its eventless ones
 * (`always`, which toDirectedGraph leaves out), one edge per source and target: the events of
 * guarded alternatives and of a state's self-transitions share one label ("A, B"), so a state
 * with many internal events gets one loop, not a pile of them.
 */
function edgesOf(node: DirectedGraphNode): ElkExtendedEdge[] {
  const byEnds = new Map<string, { id: string; source: string; target: string; labels: string[] }>();
  const add = (id: string, source: string, target: string, label: string) => {
    const key = `${source}>${target}`;
    const edge = byEnds.get(key) ?? { id, source, target, labels: [] };
    if (!edge.labels.includes(label)) edge.labels.push(label);
    byEnds.set(key, edge);
  };
  for (const edge of node.edges) add(edge.id, edge.source.id, edge.target.id, edge.label.text || '(always)');
  (node.stateNode.always ?? []).forEach((t, i) => {
    for (const target of t.target ?? [node.stateNode]) add(`${node.id}:always:${i}`, node.id, target.id, '(always)');
  });
  return [...byEnds.values()].map((e) => {
    const text = e.labels.join(', ');
    return { id: e.id, sources: [e.source], targets: [e.target], labels: [{ text, width: text.length * CHAR_WIDTH, height: 14 }] };
  });
}

function toElk(node: DirectedGraphNode, edges: ElkExtendedEdge[]): ElkNode {
  edges.push(...edgesOf(node));
  const key = node.stateNode.key;
  if (node.children.length === 0)
    return { id: node.id, width: Math.max(80, key.length * CHAR_WIDTH + 24), height: 36, labels: [{ text: key }] };
  return {
    id: node.id,
    labels: [{ text: key, width: key.length * CHAR_WIDTH, height: 16 }],
    layoutOptions: { 'elk.padding': '[top=28,left=12,bottom=12,right=12]', 'elk.nodeLabels.placement': 'INSIDE V_TOP H_LEFT' },
    children: node.children.map((child) => toElk(child, edges)),
  };
}

async function layout(definition: string): Promise<Chart> {
  const machine = createMachine(JSON.parse(definition));
  const graph = toDirectedGraph(machine);
  const edges: ElkExtendedEdge[] = [];
  const children = graph.children.map((child) => toElk(child, edges));
  const root: ElkNode = {
    id: graph.id,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.edgeLabel': '4',
    },
    children,
    edges,
  };
  const laid = await elk.layout(root);
  const nodes: ChartNode[] = [];
  const walk = (node: ElkNode, parent: string | null, dx: number, dy: number): void => {
    const x = dx + (node.x ?? 0);
    const y = dy + (node.y ?? 0);
    nodes.push({
      id: node.id,
      key: node.id.split('.').at(-1) ?? node.id,
      parent,
      x,
      y,
      width: node.width ?? 0,
      height: node.height ?? 0,
      compound: (node.children?.length ?? 0) > 0,
    });
    for (const child of node.children ?? []) walk(child, node.id, x, y);
  };
  for (const child of laid.children ?? []) walk(child, null, 0, 0);
  const origin = new Map(nodes.map((n) => [n.id, n]));
  const chartEdges: ChartEdge[] = (laid.edges ?? []).map((edge) => {
    // With INCLUDE_CHILDREN, ELK gives each edge's points relative to its container.
    const container = origin.get((edge as { container?: string }).container ?? '');
    const dx = container?.x ?? 0;
    const dy = container?.y ?? 0;
    const points = (edge.sections ?? [])
      .flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint])
      .map((p) => ({ x: p.x + dx, y: p.y + dy }));
    return { id: edge.id, source: edge.sources[0]!, target: edge.targets[0]!, label: edge.labels?.[0]?.text ?? '', points };
  });
  return { width: laid.width ?? 0, height: laid.height ?? 0, nodes, edges: chartEdges };
}
