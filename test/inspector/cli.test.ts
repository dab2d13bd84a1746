import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { daemon, plugd, start } from '../cli/run-plugd.js';

describe('plugd inspector', () => {
  it('says no daemon answers (exit 3) when nothing serves the root and --listen is not given', async () => {
    const root = path.join(await tempDir(), 'store');
    const outcome = await plugd(root, 'inspector', '--port', '0');
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain('no plugd daemon answers');
  });

  it('prints a token URL for a running daemon and ends with 0 on SIGTERM', async () => {
    const root = path.join(await tempDir(), 'store');
    await daemon(root);
    const inspector = start(root, 'inspector', '--port', '0', '--listen', '0');
    await inspector.waitFor(/plugd inspector: http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/);
    await inspector.waitFor('createWebSocketInspector');
    const url = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(inspector.stdout())![1]!;
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(new URL('/', url), { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('plugd inspector');
    expect(await inspector.stop('SIGTERM')).toBe(0);
  });
});
