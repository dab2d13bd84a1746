// The fault campaign's knobs: its size (PLUGD_CAMPAIGN=short|full), the defects still open, and
// where a run's figures go (PLUGD_CAMPAIGN_FIGURES, a JSON-lines file docs/reliability.md is made from).
import { appendFileSync } from 'node:fs';

export type CampaignSize = 'short' | 'full';

const requested = process.env.PLUGD_CAMPAIGN ?? 'short';
if (requested !== 'short' && requested !== 'full') {
  throw new Error(`PLUGD_CAMPAIGN must be "short" or "full", got "${requested}"`);
}
export const SIZE: CampaignSize = requested;

/** The numbers of one run, by size. */
export const SIZES = {
  short: { kills: 8, enableKills: 6, manifests: 1_500, loadPlugins: 40, loadCalls: 2_000, loadCrashing: 4, hugeEntries: 100_000 },
  full: { kills: 100, enableKills: 50, manifests: 40_000, loadPlugins: 200, loadCalls: 20_000, loadCrashing: 10, hugeEntries: 100_000 },
}[SIZE];

/** The seed of every generator in this run: PLUGD_CAMPAIGN_SEED replays a failing run. */
export const SEED = Number(process.env.PLUGD_CAMPAIGN_SEED ?? Date.now() % 2 ** 31);

/**
 * Defects the campaign finds that are not fixed yet: a check guarded by one of these is skipped,
 * so CI stays green until the fix lands. Remove an entry in the commit that fixes it; the check
 * then runs everywhere. PLUGD_CAMPAIGN_KNOWN_OPEN=ignore runs every check (to see them fail).
 */
export const KNOWN_OPEN = [] as const;

export type KnownOpen = (typeof KNOWN_OPEN)[number];

/** Whether the checks guarded by `defect` are skipped in this run. */
export function isOpen(defect: KnownOpen): boolean {
  return process.env.PLUGD_CAMPAIGN_KNOWN_OPEN !== 'ignore' && (KNOWN_OPEN as readonly string[]).includes(defect);
}

/** Records one figure of the run (when PLUGD_CAMPAIGN_FIGURES names a file). */
export function figure(part: string, values: Record<string, unknown>): void {
  const file = process.env.PLUGD_CAMPAIGN_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ part, size: SIZE, seed: SEED, ...values })}\n`);
}
