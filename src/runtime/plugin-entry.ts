// Everything the runtime knows of one plugin, in one place: its record, its actor, its current
// instance, its log counters, the references the host holds, the operation holding it and its
// pending settings writes. inspect(), retire and upgrade read it in one lookup.
import type { ActorRefFrom } from 'xstate';
import type { pluginMachine } from '../../machines/plugin.machine.js';
import { PlugdError } from '../errors.js';
import type { PluginInstance } from '../isolation/plugin-instance.js';
import { DROPPED_LINES, LOGGED_LINES } from '../isolation/wire-constants.mjs';
import type { PluginRecord } from '../store/store.js';

export interface LogCounters {
  lines: number;
  dropped: number;
}

/** Where a plugin's record comes from: the store (installed), or discovery (in memory only). */
export type PluginOrigin = 'installed' | 'discovered';

export class PluginEntry {
  readonly record: PluginRecord;
  readonly origin: PluginOrigin;
  /** The plugin's actor, spawned by the supervisor actor when the entry was added. */
  actor: ActorRefFrom<typeof pluginMachine> | undefined;
  /** The instance started last, until it ends. */
  instance: PluginInstance | undefined;
  /** Log counters of its finished instances. */
  logTotals: LogCounters = { lines: 0, dropped: 0 };
  /** References taken with get(..., { acquire: true }) and not released (Docker's refcount). */
  references = 0;
  /** The exclusive operation holding the plugin, as a past participle ("upgraded"). */
  heldBy: string | undefined;
  /** The last settings write queued for it: writes of one plugin run in order. */
  settingsWrite: Promise<unknown> | undefined;

  constructor(record: PluginRecord, origin: PluginOrigin) {
    this.record = record;
    this.origin = origin;
  }

  get name(): string {
    return this.record.manifest.name;
  }

  get id(): string {
    return this.record.id;
  }

  /** Adds a finished instance's counters to the plugin's total. */
  addFinished(instance: PluginInstance): void {
    this.logTotals = addCounters(this.logTotals, instance.slots);
  }

  /** Its log counters, the running instance's included. */
  logCounters(): LogCounters {
    const live = this.instance?.running ? this.instance : undefined;
    return live ? addCounters(this.logTotals, live.slots) : { ...this.logTotals };
  }

  acquire(): void {
    this.references += 1;
  }

  release(): void {
    this.references = Math.max(0, this.references - 1);
  }

  /** PLUGD_E_IN_USE unless the plugin is free or `force` is given; the entry otherwise. */
  assertFree(force: boolean | undefined): this {
    const refs = this.references;
    if (refs > 0 && !force) {
      throw new PlugdError(
        'PLUGD_E_IN_USE',
        `plugin "${this.name}" is in use (${refs} reference${refs > 1 ? 's' : ''} acquired by the host); release them or ` +
          `pass { force: true }`,
      );
    }
    return this;
  }

  /** Throws PLUGD_E_STATE while an exclusive operation holds the plugin. */
  checkUnheld(): void {
    if (this.heldBy !== undefined)
      throw new PlugdError('PLUGD_E_STATE', `plugin "${this.name}" is being ${this.heldBy}; try again once that ends`);
  }

  /**
   * Runs `work` holding the plugin: every operation that changes it is refused meanwhile
   * (PLUGD_E_STATE), rather than act on a record being replaced.
   */
  async exclusive<T>(holder: string, work: () => Promise<T>): Promise<T> {
    this.checkUnheld();
    this.heldBy = holder;
    try {
      return await work();
    } finally {
      this.heldBy = undefined;
    }
  }
}

function addCounters(total: LogCounters, slots: Int32Array): LogCounters {
  return { lines: total.lines + Atomics.load(slots, LOGGED_LINES), dropped: total.dropped + Atomics.load(slots, DROPPED_LINES) };
}
