/// <reference lib="dom" />
// A machine chart as SVG: laid-out nodes and edges from /chart, the active states highlighted and
// the last transition animated.
import { h, type ComponentChild } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Chart, ChartEdge, ChartNode } from '../chart-layout.js';
import { activeIds } from './model.js';

const charts = new Map<string, Promise<Chart | null>>();

function fetchChart(sessionId: string): Promise<Chart | null> {
  let chart = charts.get(sessionId);
  if (!chart) {
    chart = fetch(`chart?session=${encodeURIComponent(sessionId)}`).then((r) => (r.ok ? (r.json() as Promise<Chart>) : null));
    charts.set(sessionId, chart);
  }
  return chart;
}

/** Active node ids for a value: by path under the root, else (plugd's flat state names) by key. */
function activeNodes(chart: Chart, value: unknown): Set<string> {
  const rootId = chart.nodes[0]?.id.split('.')[0] ?? '';
  const ids = activeIds(rootId, value);
  const byId = new Set(chart.nodes.map((n) => n.id));
  if ([...ids].some((id) => byId.has(id))) return ids;
  const found = new Set<string>();
  if (typeof value === 'string') {
    for (const node of chart.nodes) {
      if (node.key === value) {
        for (let at: ChartNode | undefined = node; at; at = chart.nodes.find((n) => n.id === at!.parent)) found.add(at.id);
      }
    }
  }
  return found;
}

function lastEdge(chart: Chart, previous: unknown, value: unknown, event: { type: string } | null): ChartEdge | undefined {
  if (previous === undefined || !event) return undefined;
  const before = activeNodes(chart, previous);
  const after = activeNodes(chart, value);
  const candidates = chart.edges.filter((e) => before.has(e.source) && after.has(e.target));
  return candidates.find((e) => e.label.split(', ').includes(event.type)) ?? candidates[0];
}

export interface ChartProps {
  sessionId: string;
  value: unknown;
  previous: unknown;
  lastEvent: { type: string } | null;
  testid: string;
}

export function ChartView(props: ChartProps): ComponentChild {
  const [chart, setChart] = useState<Chart | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    fetchChart(props.sessionId).then(
      (c) => {
        if (live) setChart(c);
      },
      () => {
        if (live) setChart(null);
      },
    );
    return () => {
      live = false;
    };
  }, [props.sessionId]);
  if (chart === undefined) return h('p', null, 'laying out the chart…');
  if (chart === null) return h('p', null, 'no machine definition for this actor');
  const active = activeNodes(chart, props.value);
  const last = lastEdge(chart, props.previous, props.value, props.lastEvent);
  const activeKeys = chart.nodes
    .filter((n) => active.has(n.id))
    .map((n) => n.key)
    .join(' ');
  return h(
    'svg',
    {
      'data-testid': props.testid,
      'data-active': activeKeys,
      width: chart.width + 20,
      height: chart.height + 20,
      viewBox: `-10 -10 ${chart.width + 20} ${chart.height + 20}`,
    },
    h(
      'defs',
      null,
      h(
        'marker',
        { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' },
        h('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8a94a6' }),
      ),
    ),
    chart.nodes.map((n) =>
      h(
        'g',
        { key: n.id, class: `node${n.compound ? ' compound' : ''}${active.has(n.id) ? ' current' : ''}`, 'data-node': n.key },
        h('rect', { x: n.x, y: n.y, width: n.width, height: n.height }),
        h('text', { x: n.x + 8, y: n.compound ? n.y + 16 : n.y + n.height / 2 + 4 }, n.key),
      ),
    ),
    chart.edges.map((e) => {
      const points = e.points;
      if (points.length < 2) return null;
      const mid = points[Math.floor(points.length / 2)]!;
      return h(
        'g',
        { key: e.id, class: `edge${e === last ? ' last' : ''}`, 'data-edge': e.label },
        h('path', { d: points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' '), 'marker-end': 'url(#arrow)' }),
        h('text', { x: mid.x + 4, y: mid.y - 4 }, e.label),
      );
    }),
  );
}
