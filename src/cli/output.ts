// What the CLI prints: tables for people, JSON with --json, durations and log lines made readable.

/** A left-aligned table; columns as wide as their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** 1500 → "1s", 125000 → "2m5s", 90061000 → "1d1h". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)}KiB`;
  return `${(n / 1024 / 1024).toFixed(1)}MiB`;
}

export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A note for people (on stderr, so --json output stays clean). */
export function note(text: string): void {
  process.stderr.write(`plugd: ${text}\n`);
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One pino line of a plugin as "time plugin#instance level msg". */
export function logLine(line: Record<string, unknown>): string {
  const time = typeof line.time === 'number' ? new Date(line.time).toISOString() : '-';
  const level = LEVELS[line.level as number] ?? String(line.level ?? '');
  return `${time} ${String(line.plugin ?? '')}#${String(line.instance ?? '')} ${level.padEnd(5)} ${String(line.msg ?? '')}`;
}

/** One state event as "time plugin from -> to". */
export function eventLine(e: Record<string, unknown>): string {
  const time = typeof e.at === 'number' ? new Date(e.at).toISOString() : '-';
  const error = e.error as { code: string; message: string } | null;
  const restarts = typeof e.restarts === 'number' && e.restarts > 0 ? ` (restarts ${e.restarts})` : '';
  const why = error ? ` ${error.code}: ${error.message}` : '';
  return `${time} ${String(e.name)} ${String(e.from ?? '-')} -> ${String(e.to)}${restarts}${why}`;
}
