// Which npm settings a registry install uses: user .npmrc, project .npmrc, npm_config_* env.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import { DEFAULT_REGISTRY, loadNpmConfig, registryFor } from '../../src/store/registry/npm-config.js';
import { parseNpmSpec } from '../../src/store/registry/npm-spec.js';
import { tempDir } from '../helpers.js';

async function layout() {
  const dir = await tempDir('plugd-npmrc-');
  const home = path.join(dir, 'home');
  const project = path.join(dir, 'project');
  const nested = path.join(project, 'src', 'deep');
  await mkdir(home, { recursive: true });
  await mkdir(nested, { recursive: true });
  await writeFile(path.join(project, 'package.json'), '{}');
  return { home, project, nested };
}

describe('npm settings', () => {
  it('layers the user .npmrc, the project .npmrc (found up from cwd) and npm_config_* variables', async () => {
    const { home, project, nested } = await layout();
    await writeFile(
      path.join(home, '.npmrc'),
      [
        'registry=https://user.example/',
        '@acme:registry=https://acme.example/npm/',
        '//acme.example/npm/:_authToken=${ACME_TOKEN}',
        'strict-ssl=false',
      ].join('\n'),
    );
    await writeFile(path.join(project, '.npmrc'), 'registry=https://project.example/\nuserconfig=/elsewhere\n');
    const env = { ACME_TOKEN: 's3cret', npm_config_strict_ssl: 'true', NPM_CONFIG_FETCH_TIMEOUT: '1000' };
    const config = await loadNpmConfig({ cwd: nested, env, home });
    expect(config).toMatchObject({
      registry: 'https://project.example/',
      '@acme:registry': 'https://acme.example/npm/',
      '//acme.example/npm/:_authToken': 's3cret',
      'strict-ssl': 'true',
      'fetch-timeout': '1000',
    });
    expect(config.userconfig).toBeUndefined();
    expect(registryFor(config, '@acme/plugin')).toBe('https://acme.example/npm/');
    expect(registryFor(config, 'plugin')).toBe('https://project.example/');
  });

  it('reads the userconfig npm_config_userconfig names, and defaults to the public registry', async () => {
    const { home, nested } = await layout();
    const elsewhere = path.join(home, 'other-npmrc');
    await writeFile(elsewhere, '//r.example/:_authToken=abc\n');
    const config = await loadNpmConfig({ cwd: nested, env: { npm_config_userconfig: elsewhere }, home });
    expect(config['//r.example/:_authToken']).toBe('abc');
    expect(config.registry).toBe(DEFAULT_REGISTRY);
  });
});

describe('npm: specs', () => {
  it('parses names, scopes, ranges and tags', () => {
    expect(parseNpmSpec('npm:@scope/name@^1.2')).toEqual({ raw: 'npm:@scope/name@^1.2', name: '@scope/name', range: '^1.2' });
    expect(parseNpmSpec('npm:name')).toMatchObject({ name: 'name', range: '*' });
    expect(parseNpmSpec('npm:name@next')).toMatchObject({ name: 'name', range: 'next' });
  });

  it('refuses what is not a registry package', () => {
    for (const spec of ['npm:', 'npm:./folder', 'npm:https://example.com/x.tgz', 'npm:alias@npm:other@1']) {
      expect(() => parseNpmSpec(spec), spec).toThrow(expect.objectContaining({ code: 'PLUGD_E_OPTION' }));
    }
  });
});

describe('registryTimeoutMs', () => {
  it('defaults to 30 s and must be a positive number', () => {
    expect(resolveOptions({ root: '/tmp/x' }).registryTimeoutMs).toBe(30_000);
    expect(resolveOptions({ root: '/tmp/x', registryTimeoutMs: 500 }).registryTimeoutMs).toBe(500);
    for (const bad of [0, -1, 'soon', Number.NaN]) {
      expect(() => resolveOptions({ root: '/tmp/x', registryTimeoutMs: bad as number })).toThrow(
        expect.objectContaining({ code: 'PLUGD_E_OPTION', details: { option: 'registryTimeoutMs' } }),
      );
    }
  });
});
