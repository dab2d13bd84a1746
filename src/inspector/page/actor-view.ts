/// <reference lib="dom" />
// One actor: its chart; for a plugin also its restart policy (backoff countdown, intensity window),
// the control buttons with their refusals, the timeline and the live log tail.
import { h, type ComponentChild } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { InspectionMessage } from '../inspection-events.js';
import { ChartView } from './chart.js';
import type { ActorView, Model } from './model.js';
import { uptime } from './overview.js';

interface Details {
  nextRestartAt: number | null;
  restartWindow: { restarts: number; maxRestarts: number; periodMs: number };
  restartPolicy: string;
}

const time = (at: string) => new Date(Number(at)).toISOString().slice(11, 23);

function Timeline({ entries }: { entries: InspectionMessage[] }): ComponentChild {
  const rows = entries
    .filter((e) => e.type === '@xstate.snapshot')
    .slice()
    .reverse();
  return h(
    'div',
    { class: 'panel timeline', 'data-testid': 'timeline' },
    h('b', null, 'timeline'),
    rows.map((e, i) => {
      const ev = (e as InspectionMessage & { type: '@xstate.snapshot' }).event;
      const error = ev.error as { code: string; message: string } | undefined;
      const what =
        ev.type === 'plugd.state'
          ? `${String(ev.from)} → ${String(ev.to)}`
          : `${ev.type} → ${JSON.stringify((e as { snapshot: { value: unknown } }).snapshot.value)}`;
      return h(
        'div',
        { key: i },
        `${time(e.createdAt)}  ${what}`,
        error ? h('span', { class: 'refusal' }, `  ${error.code}: ${error.message}`) : null,
      );
    }),
  );
}

function Logs({ name }: { name: string }): ComponentChild {
  const [lines, setLines] = useState<string[]>([]);
  useEffect(() => {
    const source = new EventSource(`api/plugins/${encodeURIComponent(name)}/logs`);
    let kept: string[] = [];
    source.onmessage = (e) => {
      const line = JSON.parse(e.data as string) as { time?: number; msg?: string; stream?: string; level?: string | number };
      kept = [
        ...kept.slice(-199),
        `${line.time ? new Date(line.time).toISOString().slice(11, 23) : ''} ${line.msg ?? JSON.stringify(line)}`,
      ];
      setLines(kept);
    };
    return () => source.close();
  }, [name]);
  return h('div', { class: 'panel' }, h('b', null, 'log'), h('div', { class: 'logs', 'data-testid': 'logs' }, lines.join('\n')));
}

function Policy({
  name,
  policy,
  details,
  now,
}: {
  name: string;
  policy: ActorView | undefined;
  details: Details | null;
  now: number;
}): ComponentChild {
  const w = details?.restartWindow;
  const left = details?.nextRestartAt ? Math.max(0, details.nextRestartAt - now) : null;
  return h(
    'div',
    { class: 'panel' },
    h('b', null, `restart policy${details ? `: ${details.restartPolicy}` : ''}`),
    policy
      ? h(ChartView, {
          sessionId: policy.sessionId,
          value: policy.value,
          previous: policy.previous,
          lastEvent: policy.lastEvent,
          testid: 'policy-chart',
        })
      : null,
    h('div', { 'data-testid': 'backoff' }, left === null ? 'no restart pending' : `next restart in ${(left / 1000).toFixed(1)} s`),
    w
      ? h(
          'div',
          { 'data-testid': 'intensity' },
          `window: ${w.restarts} of ${w.maxRestarts} restarts in ${w.periodMs / 1000} s `,
          h('span', { class: 'bar' }, h('div', { style: `width:${Math.min(100, (100 * w.restarts) / Math.max(1, w.maxRestarts))}%` })),
        )
      : null,
    h('small', null, `(${name})`),
  );
}

export function ActorPage({ model, sessionId, now }: { model: Model; sessionId: string; now: number }): ComponentChild {
  const actor = model.actors.get(sessionId);
  const plugin = [...model.plugins.values()].find((p) => p.sessionId === sessionId);
  const [details, setDetails] = useState<Details | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const stamp = plugin ? `${plugin.state}:${plugin.restarts}:${plugin.enabled}` : '';
  useEffect(() => {
    if (!plugin) return;
    let live = true;
    fetch(`api/plugins/${encodeURIComponent(plugin.name)}`)
      .then((r) => (r.ok ? r.json() : null))
      .then(
        (d: Details | null) => {
          if (live) setDetails(d);
        },
        () => undefined,
      );
    return () => {
      live = false;
    };
  }, [plugin?.name, stamp]);
  if (!actor) return h('p', null, 'this actor is not (or no longer) known; ', h('a', { href: '#/' }, 'back'));
  const act = async (action: string) => {
    setBusy(true);
    setRefusal(null);
    try {
      const r = await fetch(`api/plugins/${encodeURIComponent(plugin!.name)}/${action}`, { method: 'POST' });
      if (!r.ok) {
        const body = (await r.json()) as { code: string; message: string };
        setRefusal(`${body.code}: ${body.message}`);
      }
    } finally {
      setBusy(false);
    }
  };
  const policy = model.actors.get(`${sessionId}:policy`);
  return h(
    'div',
    null,
    h(
      'p',
      null,
      h('a', { href: '#/' }, '← all plugins'),
      ` ${actor.name} `,
      h(
        'span',
        { class: `state state-${String(actor.value)}`, 'data-testid': 'actor-state' },
        typeof actor.value === 'string' ? actor.value : JSON.stringify(actor.value),
      ),
      plugin ? ` enabled: ${plugin.enabled ? 'yes' : 'no'} · restarts: ${plugin.restarts} · uptime: ${uptime(plugin, now)}` : '',
    ),
    plugin
      ? h(
          'div',
          { class: 'panel' },
          ['enable', 'disable', 'restart'].map((a) =>
            h(
              'button',
              { key: a, disabled: busy, 'data-testid': `action-${a}`, onClick: () => void act(a) },
              a[0]!.toUpperCase() + a.slice(1),
            ),
          ),
          refusal ? h('span', { class: 'refusal', 'data-testid': 'refusal' }, refusal) : null,
          plugin.lastError ? h('div', { class: 'refusal' }, `last error: ${plugin.lastError.code}: ${plugin.lastError.message}`) : null,
        )
      : null,
    h(
      'div',
      { class: 'row' },
      h(
        'div',
        { class: 'panel' },
        h(ChartView, { sessionId, value: actor.value, previous: actor.previous, lastEvent: actor.lastEvent, testid: 'chart' }),
      ),
      plugin
        ? h(Policy, { name: plugin.name, policy, details, now })
        : h('pre', { class: 'panel' }, JSON.stringify(actor.context, null, 2)),
    ),
    h(Timeline, { entries: actor.timeline }),
    plugin ? h(Logs, { name: plugin.name }) : null,
  );
}
