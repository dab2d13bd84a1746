// What every kind of instance shares: the record of its end (instance-end.ts) and what is read
// from it. The instance classes differ in how they start, talk and stop, not in this.
import type { InstanceExit } from '../../machines/types.js';
import { InstanceEnd } from './instance-end.js';

export abstract class EndedInstance {
  protected readonly end: InstanceEnd;

  constructor(name: string, limits: { watchdogMs: number; memoryLimitMb?: number | undefined }) {
    this.end = new InstanceEnd(name, limits);
  }

  /** Settles once, when the instance has ended for whatever reason. */
  get exited(): Promise<InstanceExit> {
    return this.end.exited;
  }
  get running(): boolean {
    return this.end.running;
  }
  get uptimeMs(): number {
    return this.end.uptimeMs;
  }
}
