// `since` of the logs and events feeds: epoch milliseconds, an ISO date, or a duration back from now.
import { PlugdError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Epoch milliseconds from "1700000000000", "2026-11-23T10:00:00Z" or "10m" (10 minutes ago). */
export function parseSince(value: string, now = Date.now()): number {
  const duration = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value);
  if (duration) return now - Number(duration[1]) * UNITS[duration[2]!]!;
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return date;
  throw new PlugdError(
    'PLUGD_E_OPTION',
    `"since" must be epoch milliseconds, an ISO date or a duration such as 10m, got ${JSON.stringify(value)}`,
    { details: { option: 'since' } },
  );
}
