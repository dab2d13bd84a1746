import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { createWebSocketInspector } from '@statelyai/inspect';
import { startInspector, type Inspector } from '../../src/inspector/index.js';
import type { Supervisor } from '../../src/index.js';
import { bundle, nextState, onCleanup, supervisor } from '../helpers.js';
import { request } from '../control/http.js';
import { ARTIFACTS, hasChromium, inCI, INSTALL, launch } from './browser.js';

const skipReason = `no Chromium at /usr/bin/chromium: install it with \`${INSTALL}\``;

it.runIf(!hasChromium && inCI)('has Chromium in CI (browser tests never skip there)', () => {
  throw new Error(skipReason);
});

describe.skipIf(!hasChromium)(hasChromium ? 'the inspector in Chromium' : `the inspector in Chromium (skipped: ${skipReason})`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(inspector: Inspector): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    onCleanup(() => page.close());
    await page.goto(inspector.url);
    return page;
  }

  async function served(sup: Supervisor, options: { listen?: number } = {}): Promise<Inspector> {
    const inspector = await startInspector({ socket: sup.controlAddress!, port: 0, ...options });
    onCleanup(() => inspector.close());
    return inspector;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('lists the plugins, follows a crash through restarting to running on the chart, and disables through the API', async () => {
    const sup = await supervisor({ control: true, restart: { backoff: { initialMs: 1500 }, jitter: 0 } });
    await sup.install(await bundle('greeter'));
    await sup.install(await bundle('crasher', { requires: ['greeter'] }));
    await sup.enable('greeter');
    await sup.enable('crasher');
    const inspector = await served(sup);
    const page = await open(inspector);

    const row = (name: string) => page.locator(`tr[data-plugin="${name}"]`);
    await expect.poll(() => row('crasher').locator('[data-testid=state]').textContent()).toBe('running');
    expect(await row('greeter').locator('[data-testid=state]').textContent()).toBe('running');
    await page.locator('[data-testid=requires-graph]').waitFor();
    const supervisorChart = page.locator('[data-testid=supervisor-chart]');
    await expect.poll(() => supervisorChart.getAttribute('data-active')).toContain('open');
    expect(await supervisorChart.locator('g.node.current[data-node=open]').count()).toBe(1);
    expect(await supervisorChart.locator('g.node[data-node=closing]').count()).toBe(1);
    await shot(page, '1-overview');

    await row('crasher').locator('a').click();
    const chart = page.locator('[data-testid=chart]');
    await expect.poll(() => chart.getAttribute('data-active')).toContain('running');
    await expect.poll(() => page.locator('g.node.current[data-node=running]').count()).toBe(1);

    const crasher = await sup.get('crasher', 'Crash');
    void crasher.call('Crash.Throw').catch(() => undefined);
    await page.locator('[data-testid=actor-state]', { hasText: 'restarting' }).waitFor();
    await expect.poll(() => chart.getAttribute('data-active')).toContain('restarting');
    await page.locator('[data-testid=backoff]', { hasText: 'next restart in' }).waitFor();
    await page.locator('g.edge.last').waitFor();
    await shot(page, '2-restarting');
    await page.locator('[data-testid=actor-state]', { hasText: 'running' }).waitFor();
    await expect.poll(() => chart.getAttribute('data-active')).toContain('running');
    expect(await page.locator('[data-testid=timeline]').textContent()).toContain('PLUGD_E_PLUGIN_EXITED');
    await shot(page, '3-running-again');

    const held = await sup.get('crasher', 'Crash', { acquire: true });
    await page.locator('[data-testid=action-disable]').click();
    await expect.poll(() => page.locator('[data-testid=refusal]').textContent()).toContain('PLUGD_E_IN_USE');
    await shot(page, '4-refused');
    await held.release();
    await page.locator('[data-testid=action-disable]').click();
    await page.locator('[data-testid=actor-state]', { hasText: 'disabled' }).waitFor();
    const answer = await request(sup.controlAddress!, 'GET', '/v1/plugins/crasher');
    expect(answer.json).toMatchObject({ state: 'disabled', enabled: false });
    await shot(page, '5-disabled');
  }, 60_000);

  it("draws the actors of an XState app that uses @statelyai/inspect's createWebSocketInspector (--listen)", async () => {
    const sup = await supervisor({ control: true });
    const inspector = await served(sup, { listen: 0 });
    const ws = createWebSocketInspector({ url: `ws://127.0.0.1:${inspector.listenPort}` });
    onCleanup(() => ws.stop());
    const light = createMachine({
      id: 'trafficLight',
      initial: 'green',
      states: { green: { on: { NEXT: 'yellow' } }, yellow: { on: { NEXT: 'red' } }, red: { on: { NEXT: 'green' } } },
    });
    const actor = createActor(light, { inspect: ws.inspect }).start();
    onCleanup(() => actor.stop());
    const page = await open(inspector);
    const item = page.locator('[data-actor=trafficLight]');
    await item.waitFor();
    await item.locator('a').click();
    const chart = page.locator('[data-testid=chart]');
    await expect.poll(() => chart.getAttribute('data-active')).toContain('green');
    actor.send({ type: 'NEXT' });
    await expect.poll(() => chart.getAttribute('data-active')).toContain('yellow');
    await page.locator('g.edge.last[data-edge=NEXT]').waitFor();
    await shot(page, '6-outside-app');
  });

  it('renders 500 plugins and shows a change on screen', async () => {
    const sup = await supervisor({ control: true });
    const names = Array.from({ length: 500 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      const dirs = await Promise.all(names.slice(i, i + 25).map((name) => bundle('greeter', { name })));
      await Promise.all(dirs.map((dir) => sup.install(dir)));
    }
    const inspector = await served(sup);
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    onCleanup(() => page.close());
    const started = Date.now();
    await page.goto(inspector.url);
    await expect.poll(() => page.locator('tr[data-plugin]').count(), { timeout: 30_000 }).toBe(500);
    const firstRender = Date.now() - started;
    const running = nextState(sup, 'p250', 'running');
    const onScreen = page.waitForFunction(
      () => {
        const cell = document.querySelector('tr[data-plugin=p250] [data-testid=state]');
        return cell?.textContent === 'running' ? Date.now() : null;
      },
      null,
      { polling: 'raf', timeout: 60_000 },
    );
    await sup.enable('p250');
    const changeToScreen = Number(await (await onScreen).jsonValue()) - (await running).at;
    await shot(page, '7-500-plugins');
    // Timings are recorded, not asserted: bounds belong in the benchmark.
    await writeFile(
      path.join(ARTIFACTS, '500-plugins.json'),
      JSON.stringify({ plugins: 500, firstRenderMs: firstRender, stateEventToScreenMs: changeToScreen }, null, 2),
    );
  }, 240_000);
});
