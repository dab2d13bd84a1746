// The Docker Engine the tests under test/docker talk to: whether one answers (DOCKER_HOST or
// /var/run/docker.sock) with the local test images, the `docker` CLI, and the skip (locally) or
// failure (CI=true) when there is none.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, beforeEach } from 'vitest';

const run = promisify(execFile);

export const START_ENGINE = 'sudo scripts/docker-engine.sh start';
export const IMAGES = ['local/busybox', 'local/plugd-node', 'local/plugd-volumes'];
/** The managed plugin scripts/docker-engine.sh makes (disabled). */
export const MANAGED_PLUGIN = 'local/plugd-managed';

/** Runs the docker CLI; resolves with its stdout, trimmed. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: 60_000 });
  return stdout.trim();
}

async function probe(): Promise<string | null> {
  try {
    await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 });
  } catch {
    return `no Docker Engine answers (DOCKER_HOST or /var/run/docker.sock); start one with \`${START_ENGINE}\``;
  }
  try {
    await run('docker', ['image', 'inspect', ...IMAGES], { timeout: 10_000 });
    await run('docker', ['plugin', 'inspect', MANAGED_PLUGIN], { timeout: 10_000 });
  } catch {
    return `the engine lacks the test images ${IMAGES.join(', ')} or the plugin ${MANAGED_PLUGIN}; build them with \`${START_ENGINE}\``;
  }
  return null;
}

/** Why the Docker tests cannot run here, or null when they can. */
export const missingEngine = await probe();

/**
 * Skips each test of the file with the reason and the command that starts an engine, or fails
 * it under CI=true, where a missing engine is a broken setup rather than a choice.
 */
export function requireEngine(): void {
  // The reporters do not print skip notes: say it once per file.
  beforeAll(() => {
    if (missingEngine !== null && process.env.CI !== 'true') console.warn(`Docker tests skipped: ${missingEngine}`);
  });
  beforeEach((context) => {
    if (missingEngine === null) return;
    if (process.env.CI === 'true') throw new Error(`CI=true: ${missingEngine}`);
    context.skip(missingEngine);
  });
}
