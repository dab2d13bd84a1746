// plugin.json is read as a regular file of its own folder, never through a link, and an error
// about it never quotes more of it than a short, printable excerpt.
import { execFileSync } from 'node:child_process';
import { rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, supervisor, tempDir } from '../helpers.js';

/** The messages of an error and of every cause behind it. */
function messages(e: unknown): string {
  const out: string[] = [];
  for (let at = e; at instanceof Error; at = at.cause) out.push(at.message);
  return out.join('\n');
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; text: string; message: string }> {
  const e = await promise.then(
    () => {
      throw new Error('accepted');
    },
    (err: unknown) => err,
  );
  return { code: (e as { code: string }).code, text: messages(e), message: (e as Error).message };
}

describe('a plugin.json that is not a plain file', () => {
  it('refuses a symlink to /etc/passwd without reading it', async () => {
    const dir = await bundle('greeter');
    await rm(path.join(dir, 'plugin.json'));
    await symlink('/etc/passwd', path.join(dir, 'plugin.json'));
    const { code, text } = await refusal((await supervisor()).install(dir));
    expect(code).toBe('PLUGD_E_MANIFEST');
    expect(text).not.toContain('root:');
  });

  it('refuses a symlink to a secret, even one that is valid JSON, and never quotes it', async () => {
    const secret = path.join(await tempDir(), 'secret.txt');
    await writeFile(secret, 'TOPSECRET-token-1234\n');
    const dir = await bundle('greeter');
    await rm(path.join(dir, 'plugin.json'));
    await symlink(secret, path.join(dir, 'plugin.json'));
    const { code, text } = await refusal((await supervisor()).install(dir));
    expect(code).toBe('PLUGD_E_MANIFEST');
    expect(text).not.toContain('TOPSECRET');

    const inBundle = await bundle('greeter');
    await writeFile(
      path.join(inBundle, 'real.json'),
      JSON.stringify({ name: 'greeter', version: '1.0.0', kind: 'worker', entrypoint: 'index.mjs', interface: { types: ['Greeter'] } }),
    );
    await rm(path.join(inBundle, 'plugin.json'));
    await symlink('real.json', path.join(inBundle, 'plugin.json'));
    expect((await refusal((await supervisor()).install(inBundle))).code).toBe('PLUGD_E_MANIFEST');
  });

  it('refuses a FIFO instead of waiting for a writer', async () => {
    const dir = await bundle('greeter');
    await rm(path.join(dir, 'plugin.json'));
    execFileSync('mkfifo', [path.join(dir, 'plugin.json')]);
    expect((await refusal((await supervisor()).install(dir))).code).toBe('PLUGD_E_MANIFEST');
  }, 10_000);

  it('reports, without quoting it, a record whose plugin.json in the store became a link', async () => {
    const secret = path.join(await tempDir(), 'secret.txt');
    await writeFile(secret, 'TOPSECRET-token-1234\n');
    const first = await supervisor();
    const { id } = await first.install(await bundle('greeter'));
    await first.install(await bundle('crasher'));
    await first.close();
    const manifest = path.join(first.root, 'plugins', id, 'plugin.json');
    await rm(manifest);
    await symlink(secret, manifest);
    const second = await supervisor({ root: first.root });
    expect(second.list().map((p) => p.name)).toEqual(['crasher']);
    expect(second.problems).toHaveLength(1);
    expect(second.problems[0]).toMatchObject({ id, error: { code: 'PLUGD_E_MANIFEST' } });
    expect(messages(second.problems[0]!.error)).not.toContain('TOPSECRET');
  });
});

describe('what an error quotes of a plugin.json', () => {
  it('gives at most a short, printable excerpt of text that is not JSON', async () => {
    const dir = await bundle('greeter');
    await writeFile(path.join(dir, 'plugin.json'), `\u0007\u001b[2J${'A'.repeat(5000)}`);
    const { code, text } = await refusal((await supervisor()).install(dir));
    expect(code).toBe('PLUGD_E_MANIFEST');
    expect(text).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(text).not.toContain('A'.repeat(60));
  });

  it('shortens a long or unprintable value it names', async () => {
    const sup = await supervisor();
    const long = await bundle('greeter', { requires: [`X${'Y'.repeat(5000)}`] });
    const first = await refusal(sup.install(long));
    expect(first.code).toBe('PLUGD_E_MANIFEST');
    expect(first.text).not.toContain('Y'.repeat(100));
    const control = await bundle('greeter', { entrypoint: 'in\u001b[31mdex.mjs' });
    const second = await refusal(sup.install(control));
    expect(second.code).toBe('PLUGD_E_MANIFEST');
    expect(second.text).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});
