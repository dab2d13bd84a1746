// `plugd graph`: a plugin's lifecycle chart drawn from the machine's own definition
// (xstate/graph's toDirectedGraph), its current state marked, as Mermaid, DOT or JSON.
import type { Command } from 'commander';
import { toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import { pluginMachine } from '../../../machines/plugin.machine.js';
import { contextOf, seg, UsageError } from '../context.js';
import { findPlugin } from '../offline-store.js';
import { print, printJson } from '../output.js';
import { offline } from './ls.js';

interface Chart {
  machine: string;
  current: string | null;
  nodes: { id: string; parent: string | null; initial: string | null; current: boolean }[];
  edges: { source: string; target: string; event: string; guard: string | null }[];
}

/** The node a public state name stands for: sub-states of `live` keep their own names. */
const key = (id: string) => id.split('.').pop()!;

function eventName(text: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(text);
  return after ? `after ${after[1]}` : text;
}

export function chart(current: string | null): Chart {
  const nodes: Chart['nodes'] = [];
  const edges: Chart['edges'] = [];
  const walk = (node: DirectedGraphNode, parent: string | null) => {
    nodes.push({
      id: key(node.id),
      parent,
      initial: (node.stateNode.config.initial as string | undefined) ?? null,
      current: key(node.id) === current,
    });
    for (const edge of node.edges) {
      const guard = edge.transition.guard as { type?: string } | string | undefined;
      edges.push({
        source: key(edge.source.id),
        target: key(edge.target.id),
        event: eventName(edge.label.text),
        guard: typeof guard === 'string' ? guard : (guard?.type ?? null),
      });
    }
    for (const child of node.children) walk(child, key(node.id));
  };
  const root = toDirectedGraph(pluginMachine);
  for (const child of root.children) walk(child, null);
  return { machine: pluginMachine.id, current, nodes, edges };
}

function label(e: Chart['edges'][number]): string {
  return e.guard ? `${e.event} [${e.guard}]` : e.event;
}

export function mermaid(c: Chart): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${pluginMachine.config.initial as string}`];
  const body = (parent: string | null, indent: string) => {
    for (const n of c.nodes.filter((x) => x.parent === parent)) {
      const children = c.nodes.filter((x) => x.parent === n.id);
      if (children.length === 0) {
        if (parent !== null) lines.push(`${indent}${n.id}`);
        continue;
      }
      lines.push(`${indent}state ${n.id} {`);
      if (n.initial) lines.push(`${indent}  [*] --> ${n.initial}`);
      body(n.id, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };
  body(null, '  ');
  for (const e of c.edges) lines.push(`  ${e.source} --> ${e.target}: ${label(e)}`);
  lines.push('  classDef current fill:#f96,stroke:#333,stroke-width:2px');
  if (c.current) lines.push(`  class ${c.current} current`);
  return lines.join('\n');
}

export function dot(c: Chart): string {
  const lines = [`digraph ${c.machine} {`, '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  const body = (parent: string | null, indent: string) => {
    for (const n of c.nodes.filter((x) => x.parent === parent)) {
      const children = c.nodes.filter((x) => x.parent === n.id);
      if (children.length === 0) {
        lines.push(`${indent}"${n.id}"${n.current ? ' [style="rounded,filled", fillcolor=orange, penwidth=2]' : ''};`);
        continue;
      }
      lines.push(`${indent}subgraph cluster_${n.id} {`, `${indent}  label="${n.id}";`);
      lines.push(`${indent}  "${n.id}" [shape=point];`);
      body(n.id, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };
  body(null, '  ');
  for (const e of c.edges) lines.push(`  "${e.source}" -> "${e.target}" [label="${label(e)}"];`);
  lines.push('}');
  return lines.join('\n');
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description("a plugin's lifecycle chart, drawn from its state machine, with its current state marked")
    .argument('<name>')
    .option('--format <format>', 'mermaid, dot or json', 'mermaid')
    .action(async (name: string, opts: { format: string }, command: Command) => {
      const ctx = contextOf(command);
      if (!['mermaid', 'dot', 'json'].includes(opts.format)) throw new UsageError(`--format is mermaid, dot or json, not "${opts.format}"`);
      let state: string | null;
      try {
        state = (await ctx.api.request<{ state: string }>('GET', `/v1/plugins/${seg(name)}`)).state;
      } catch (e) {
        if (!findPlugin(await offline(ctx, e), name)) throw e;
        state = null;
      }
      const c = chart(state);
      if (opts.format === 'json' || ctx.json) return printJson(c);
      print(opts.format === 'dot' ? dot(c) : mermaid(c));
    });
}
