import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, EXAMPLES, onCleanup, tempDir } from '../helpers.js';

const HOST = fileURLToPath(new URL('../fixtures/quiet-host.ts', import.meta.url));

interface HostRun {
  code: number | null;
  stdout: string;
  stderr: string;
  report: { problems: { code: string; message: string }[] };
}

/** Runs the quiet host in a process of its own and collects its stdout, its stderr and its report on fd 3. */
async function runHost(mode: 'default' | 'off'): Promise<HostRun> {
  const root = path.join(await tempDir(), 'store');
  const bundles = [
    await bundle('greeter'),
    await bundle('crasher'),
    await bundle('busy-loop', { restart: { policy: 'no' } }),
    path.join(EXAMPLES, 'volumes'),
  ];
  const host = spawn(process.execPath, ['--import', 'tsx', HOST, root, mode, ...bundles], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  onCleanup(() => host.kill('SIGKILL'));
  const collect = (stream: NodeJS.ReadableStream) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    return () => text;
  };
  const [stdout, stderr, report] = [collect(host.stdout!), collect(host.stderr!), collect(host.stdio[3] as NodeJS.ReadableStream)];
  const code = await new Promise<number | null>((resolve) => host.on('close', resolve));
  return { code, stdout: stdout(), stderr: stderr(), report: report() ? JSON.parse(report()) : { problems: [] } };
}

describe('an embedded supervisor', () => {
  it('writes nothing on stdout by default, and one readable stderr line per thing an operator must not miss', async () => {
    const run = await runHost('default');
    expect(run.stderr).not.toBe(''); // shown below if the host failed
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    for (const line of lines) {
      expect(line).toMatch(/^plugd (warn|error): /);
      expect(line).not.toMatch(/^\{|"level":/); // not JSON
      expect(line.split('PLUGD_E_').length - 1).toBe(1); // the code, once
    }
    // What plugins print stays in their own logs.
    expect(run.stderr).not.toContain('raw stderr line');
    const hung = lines.filter((l) => l.includes('[PLUGD_E_PLUGIN_HUNG]'));
    expect(hung.find((l) => l.includes('busy-loop: running -> restarting'))).toContain('blocked its event loop');
    expect(hung.filter((l) => l.includes('busy-loop: restarting -> disabled (gave up)'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('crasher: running -> restarting') && l.includes('[PLUGD_E_PLUGIN_EXITED]'))).toHaveLength(1);
    expect(run.report.problems).not.toEqual([]);
    for (const problem of run.report.problems) {
      expect(lines.filter((l) => l.includes(problem.message.split('\n')[0]!) && l.endsWith(`[${problem.code}]`))).toHaveLength(1);
    }
  }, 60_000);

  it('writes nothing at all with logger: false', async () => {
    const run = await runHost('off');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('');
    expect(run.report.problems).not.toEqual([]);
  }, 60_000);
});
