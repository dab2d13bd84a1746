// The page: its HTML shell and its script, bundled by the package build (app.bundle.js beside this
// module) or, when running from the sources, bundled once in memory with esbuild.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const BUNDLE = new URL('./app.bundle.js', import.meta.url);
const ENTRY = fileURLToPath(new URL('./page/main.ts', import.meta.url));

let script: Promise<string> | null = null;

/** Bundles the page's sources (used by the build, and from the sources when no bundle exists). */
export async function bundlePage(outfile?: string): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: outfile !== undefined,
    ...(outfile === undefined ? {} : { outfile }),
    logLevel: 'silent',
  });
  if (outfile !== undefined) return readFile(outfile, 'utf8');
  return result.outputFiles![0]!.text;
}

export function pageScript(): Promise<string> {
  script ??= readFile(BUNDLE, 'utf8').catch(() => bundlePage());
  return script;
}

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>plugd inspector</title>
<style>
:root { font: 13px/1.4 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
body { margin: 0; }
header { display: flex; gap: 16px; align-items: center; padding: 8px 16px; background: #1d2430; color: #fff; }
header a { color: #9cc4ff; }
main { padding: 12px 16px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #e3e6ea; white-space: nowrap; }
td.error { color: #b3261e; white-space: normal; }
.state { padding: 1px 6px; border-radius: 8px; background: #e3e6ea; }
.state-running { background: #c8f0d0; } .state-restarting { background: #ffe1a8; } .state-activating { background: #d8e6ff; }
.state-disabled { background: #f3d0cd; } .state-stopping { background: #eadcf7; }
.status-bad { color: #ffb4ab; }
.row { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
.panel { background: #fff; border: 1px solid #e3e6ea; border-radius: 6px; padding: 8px; margin-bottom: 12px; }
svg .node rect { fill: #fff; stroke: #8a94a6; rx: 6; }
svg .node.compound rect { fill: #f6f7f9; stroke-dasharray: 4 2; }
svg .node.current > rect { fill: #c8f0d0; stroke: #1a7f37; stroke-width: 3; }
svg .node text { font-size: 12px; }
svg .edge path { fill: none; stroke: #8a94a6; }
svg .edge text { font-size: 10px; fill: #5b6577; }
svg .edge.last path { stroke: #1a7f37; stroke-width: 3; stroke-dasharray: 8 4; animation: flow 0.6s linear infinite; }
@keyframes flow { to { stroke-dashoffset: -12; } }
.timeline { max-height: 280px; overflow: auto; font-family: ui-monospace, monospace; font-size: 12px; }
.logs { max-height: 240px; overflow: auto; font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap;
  background: #1d2430; color: #e3e6ea; padding: 6px; }
.bar { width: 160px; height: 10px; background: #e3e6ea; border-radius: 5px; overflow: hidden;
  display: inline-block; vertical-align: middle; }
.bar > div { height: 100%; background: #e8a33d; }
.refusal { color: #b3261e; }
button { margin-right: 6px; }
</style>
</head>
<body><div id="app"></div><script type="module" src="app.js"></script></body>
</html>
`;
