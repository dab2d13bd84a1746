// This process's npm settings, for tests that install from a registry: no npm_config_* of the shell
// that runs the tests, a userconfig of the test's own, and the test's registry.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { onCleanup, tempDir } from '../helpers.js';

const NPM_CONFIG = /^npm_config_/i;

/** Clears npm_config_* and points npm at `npmrc` only; returns what puts the environment back. */
export function isolateNpmConfig(npmrc: string): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env).filter((k) => NPM_CONFIG.test(k))) {
    saved[key] = process.env[key];
    delete process.env[key];
  }
  process.env.npm_config_userconfig = npmrc;
  return () => {
    for (const key of Object.keys(process.env).filter((k) => NPM_CONFIG.test(k))) delete process.env[key];
    for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
  };
}

/** Gives each test of the calling file an empty userconfig and no other npm settings. */
export function emptyNpmConfigPerTest(): void {
  let restore: (() => void) | null = null;
  beforeEach(async () => {
    const npmrc = path.join(await tempDir('plugd-npmrc-'), 'npmrc');
    await writeFile(npmrc, '');
    restore = isolateNpmConfig(npmrc);
  });
  afterEach(() => {
    restore?.();
    restore = null;
  });
}

/** Points npm (and a daemon this process starts) at `url` for the rest of the test. */
export function useRegistry(url: string): void {
  process.env.npm_config_registry = url;
  onCleanup(() => delete process.env.npm_config_registry);
}
