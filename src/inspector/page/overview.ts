/// <reference lib="dom" />
// The overview: every plugin (live state, enabled, restarts, uptime, last error; filterable), the
// requires graph, the supervisor's own machine, and the actors of outside XState apps.
import { h, type ComponentChild } from 'preact';
import { useState } from 'preact/hooks';
import { SUPERVISOR_SESSION, type PluginRow } from '../inspection-events.js';
import { stateLabel } from '../../runtime/state-label.js';
import { ChartView } from './chart.js';
import type { Model } from './model.js';

export function uptime(row: PluginRow, now: number): string {
  if (row.uptimeMs === null || row.state !== 'running') return '';
  const s = Math.floor((row.uptimeMs + (now - row.seenAt)) / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

const link = (sessionId: string) => `#/actor/${encodeURIComponent(sessionId)}`;

function RequiresGraph({ plugins }: { plugins: PluginRow[] }): ComponentChild {
  const edges = plugins.flatMap((p) => p.requires.map((r) => [p.name, r] as const));
  if (edges.length === 0) return null;
  const names = [...new Set(edges.flat())];
  const depth = new Map<string, number>();
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const depthOf = (name: string, seen: Set<string>): number => {
    if (depth.has(name)) return depth.get(name)!;
    if (seen.has(name)) return 0;
    seen.add(name);
    const d = Math.max(-1, ...(byName.get(name)?.requires ?? []).map((r) => depthOf(r, seen))) + 1;
    depth.set(name, d);
    return d;
  };
  for (const n of names) depthOf(n, new Set());
  const rows = new Map<number, string[]>();
  for (const n of names) rows.set(depth.get(n)!, [...(rows.get(depth.get(n)!) ?? []), n]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, list] of rows) list.forEach((n, i) => pos.set(n, { x: 10 + i * 150, y: 10 + d * 60 }));
  const width = Math.max(...[...rows.values()].map((l) => l.length)) * 150 + 20;
  const height = rows.size * 60 + 20;
  return h(
    'div',
    { class: 'panel' },
    h('b', null, 'requires'),
    h(
      'svg',
      { 'data-testid': 'requires-graph', width, height },
      edges.map(([from, to]) => {
        const a = pos.get(from)!,
          b = pos.get(to)!;
        return h('line', {
          key: `${from}>${to}`,
          x1: a.x + 60,
          y1: a.y,
          x2: b.x + 60,
          y2: b.y + 24,
          stroke: '#8a94a6',
          'marker-end': 'url(#arrow)',
        });
      }),
      names.map((n) => {
        const p = pos.get(n)!;
        const state = byName.get(n)?.state ?? 'missing';
        return h(
          'g',
          { key: n },
          h('rect', { x: p.x, y: p.y, width: 120, height: 24, rx: 6, class: `state-${state}`, fill: '#fff', stroke: '#8a94a6' }),
          h('text', { x: p.x + 6, y: p.y + 16, 'font-size': 12 }, `${n} (${state})`),
        );
      }),
    ),
  );
}

export function Overview({ model, now }: { model: Model; now: number }): ComponentChild {
  const [filter, setFilter] = useState('');
  const all = [...model.plugins.values()].sort((a, b) => a.name.localeCompare(b.name));
  const f = filter.trim().toLowerCase();
  const shown =
    f === ''
      ? all
      : all.filter(
          (p) => p.name.toLowerCase().includes(f) || p.state.includes(f) || (p.lastError?.code.toLowerCase().includes(f) ?? false),
        );
  const outside = [...model.actors.values()].filter((a) => !a.sessionId.startsWith('plugd:'));
  const supervisor = model.actors.get(SUPERVISOR_SESSION);
  const reachable = (supervisor?.context as { reachable?: boolean } | undefined)?.reachable !== false;
  return h(
    'div',
    null,
    h(
      'div',
      { class: 'panel' },
      h('input', {
        'data-testid': 'filter',
        placeholder: 'filter by name, state or error code',
        value: filter,
        onInput: (e: Event) => setFilter((e.target as HTMLInputElement).value),
      }),
      ` ${shown.length} of ${all.length} plugins`,
    ),
    h(
      'table',
      { 'data-testid': 'plugins' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['plugin', 'version', 'kind', 'state', 'enabled', 'restarts', 'uptime', 'last error'].map((t) => h('th', { key: t }, t)),
        ),
      ),
      h(
        'tbody',
        null,
        shown.map((p) =>
          h(
            'tr',
            { key: p.name, 'data-plugin': p.name },
            h('td', null, h('a', { href: link(p.sessionId) }, p.name)),
            h('td', null, p.version),
            h('td', null, p.kind),
            h('td', null, h('span', { class: `state state-${p.state}`, 'data-testid': 'state' }, stateLabel(p))),
            h('td', { 'data-testid': 'enabled' }, p.enabled ? 'yes' : 'no'),
            h('td', null, String(p.restarts)),
            h('td', null, uptime(p, now)),
            h('td', { class: 'error' }, p.lastError ? `${p.lastError.code}: ${p.lastError.message}` : ''),
          ),
        ),
      ),
    ),
    h(RequiresGraph, { plugins: all }),
    supervisor === undefined
      ? null
      : h(
          'div',
          { class: 'panel', 'data-testid': 'supervisor' },
          h('b', null, 'supervisor'),
          ' ',
          h(
            'span',
            { class: 'state', 'data-testid': 'supervisor-state' },
            reachable
              ? JSON.stringify(supervisor.value)
              : `${JSON.stringify(supervisor.value)} (last known; the control API is unreachable)`,
          ),
          h(ChartView, {
            sessionId: SUPERVISOR_SESSION,
            value: supervisor.value,
            previous: supervisor.previous,
            lastEvent: supervisor.lastEvent,
            testid: 'supervisor-chart',
          }),
        ),
    outside.length === 0
      ? null
      : h(
          'div',
          { class: 'panel', 'data-testid': 'outside-actors' },
          h('b', null, 'other XState actors'),
          h(
            'ul',
            null,
            outside.map((a) =>
              h(
                'li',
                { key: a.sessionId, 'data-actor': a.name },
                h('a', { href: link(a.sessionId) }, a.name),
                ` ${a.sessionId} `,
                h('span', { class: 'state', 'data-testid': 'actor-state' }, JSON.stringify(a.value)),
                a.status === 'active' ? '' : ` (${a.status})`,
              ),
            ),
          ),
        ),
  );
}
