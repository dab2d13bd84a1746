import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundle, nextState, supervisor } from '../helpers.js';
import { request } from './http.js';

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  it("counts calls by outcome, with their durations, and the plugin's info and state", async () => {
    const sup = await supervisor({ callTimeoutMs: 2_000 });
    await sup.install(await bundle('greeter'));
    await sup.enable('greeter');
    const greeter = await sup.get('greeter', 'Greeter');
    for (let i = 0; i < 5; i++) await greeter.call('Greeter.Hello', { name: 'x' });
    await expect(greeter.call('Greeter.Fail', { message: 'no' })).rejects.toMatchObject({ code: 'PLUGD_E_PLUGIN_ERROR' });
    await expect(greeter.call('Greeter.Slow', { ms: 5_000 }, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'PLUGD_E_CALL_TIMEOUT' });
    const text = await sup.metrics();
    expect(sample(text, 'plugd_plugin_calls_total', { plugin: 'greeter', outcome: 'ok' })).toBe(5);
    expect(sample(text, 'plugd_plugin_calls_total', { plugin: 'greeter', outcome: 'error' })).toBe(1);
    expect(sample(text, 'plugd_plugin_calls_total', { plugin: 'greeter', outcome: 'timeout' })).toBe(1);
    expect(sample(text, 'plugd_plugin_call_duration_seconds_count', { plugin: 'greeter' })).toBe(7);
    expect(sample(text, 'plugd_plugin_call_duration_seconds_bucket', { plugin: 'greeter', le: '+Inf' })).toBe(7);
    expect(sample(text, 'plugd_plugin_info', { plugin: 'greeter', version: '1.0.0', kind: 'worker' })).toBe(1);
    expect(sample(text, 'plugd_plugin_state', { plugin: 'greeter', state: 'running' })).toBe(1);
    expect(sample(text, 'plugd_plugin_state', { plugin: 'greeter', state: 'disabled' })).toBe(0);
    expect(sample(text, 'plugd_plugin_activation_duration_seconds_count', { plugin: 'greeter' })).toBe(1);
    expect(sample(text, 'plugd_plugin_cpu_seconds_total', { plugin: 'greeter' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'plugd_plugin_log_lines_dropped_total', { plugin: 'greeter' })).toBe(0);
    expect(text).toContain('process_cpu_user_seconds_total');
    await sup.disable('greeter');
    await expect(greeter.call('Greeter.Hello', { name: 'x' })).rejects.toMatchObject({ code: 'PLUGD_E_NOT_RUNNING' });
    expect(sample(await sup.metrics(), 'plugd_plugin_calls_total', { plugin: 'greeter', outcome: 'not_running' })).toBe(1);
  });

  it('counts restarts by reason and watchdog kills', async () => {
    const sup = await supervisor({ watchdogMs: 300 });
    await sup.install(await bundle('crasher'));
    await sup.install(await bundle('busy-loop'));
    await sup.enable('crasher');
    const back = nextState(sup, 'crasher', 'running');
    void (await sup.get('crasher', 'Crash')).call('Crash.Exit', { code: 1 }).catch(() => undefined);
    await back;
    await sup.enable('busy-loop');
    const hungBack = nextState(sup, 'busy-loop', 'running');
    void (await sup.get('busy-loop', 'Spin')).call('Spin.Forever').catch(() => undefined);
    await hungBack;
    const text = await sup.metrics();
    expect(sample(text, 'plugd_plugin_restarts_total', { plugin: 'crasher', reason: 'exited' })).toBe(1);
    expect(sample(text, 'plugd_plugin_restarts_total', { plugin: 'busy-loop', reason: 'hung' })).toBe(1);
    expect(sample(text, 'plugd_watchdog_kills_total', { plugin: 'busy-loop', reason: 'hung' })).toBe(1);
  });

  it("reads a process plugin's CPU time and resident memory from /proc/<pid>", async () => {
    const sup = await supervisor();
    await sup.install(fileURLToPath(new URL('../../examples/bundles/volumes/', import.meta.url)));
    await sup.enable('volumes');
    await expect
      .poll(async () => sample(await sup.metrics(), 'plugd_plugin_memory_bytes', { plugin: 'volumes' }))
      .toBeGreaterThan(1024 * 1024);
    expect(sample(await sup.metrics(), 'plugd_plugin_cpu_seconds_total', { plugin: 'volumes' })).toBeGreaterThan(0);
  });

  it('serves the same text on GET /v1/metrics', async () => {
    const sup = await supervisor({ control: true });
    const answer = await request(path.join(sup.root, 'plugd.sock'), 'GET', '/v1/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.text).toContain('# TYPE plugd_plugin_call_duration_seconds histogram');
  });
});
