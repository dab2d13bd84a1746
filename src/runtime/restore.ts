// Docker's live restore: the plugins enabled when the host last stopped (and `always` plugins)
// are enabled again at open, without holding the open: the report is what `restored()` gives.
import type { Logger } from 'pino';
import type { PluginRecord } from '../store/store.js';

/** How the restore at open went: see `Supervisor.restored()`. */
export interface RestoreReport {
  /** Plugins that ran, in the order they did. */
  running: string[];
  /** Plugins whose activation failed, or whose dependency failed, with the error enable() gave. */
  failed: { name: string; error: Error }[];
}

/** The records a restore enables. */
export function toRestore(records: PluginRecord[]): PluginRecord[] {
  return records.filter((r) => r.settings.enabled || r.manifest.restart.policy === 'always');
}

/** Enables each record and reports each outcome; never rejects. `quiet()` says the host is closing. */
export async function restore(
  records: PluginRecord[],
  enable: (id: string) => Promise<void>,
  log: Logger,
  quiet: () => boolean,
): Promise<RestoreReport> {
  const report: RestoreReport = { running: [], failed: [] };
  await Promise.all(
    records.map(async (record) => {
      const name = record.manifest.name;
      try {
        await enable(record.id);
        report.running.push(name);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        report.failed.push({ name, error });
        if (!quiet()) log.error({ plugin: name, err: error }, `could not restore ${name}`);
      }
    }),
  );
  return report;
}
