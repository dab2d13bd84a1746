// Rebuilds the bundled plugin worker entry before the tests, so they never run a stale bundle.
import { buildWorker } from '../scripts/build-worker.mjs';

export default function setup(): void {
  buildWorker();
}
