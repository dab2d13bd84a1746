// Statistics, tables and the results file shared by every scenario.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Summary {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { p50: at(50), p99: at(99), max: sorted.at(-1) ?? NaN, mean, count: sorted.length };
}

export function median(values: number[]): number {
  return summarize(values).p50;
}

export const round = (x: number, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export function ratio(plugd: number, raw: number): number {
  return round(plugd / raw, 3);
}

export function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}

/** Machine facts recorded with every result. */
export function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
  };
}

/**
 * Writes bench/results/<date>[.quick][.<scenarios>].json: a run of some scenarios (--only) gets
 * a name of its own, so it never replaces the record of a whole run.
 */
export async function writeResults(results: unknown, quick: boolean, scenarios: string[] | null): Promise<string> {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const name = [date, ...(quick ? ['quick'] : []), ...(scenarios ? [scenarios.join('+')] : [])].join('.');
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/** Forces a full GC when node runs with --expose-gc, so RSS deltas measure what is alive. */
export async function settledRss(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage.rss();
}
