// An embedding host that does nothing but supervise: createSupervisor on the store at argv[2],
// enables every plugin installed there, prints "ready" and idles until SIGTERM (then close()).
// The idle CPU tools start it as a child process, so what they read from /proc is plugd alone.
// PLUGD_ENTRY picks what it imports: the build (dist/, default) or the sources (with tsx).
import { pino } from 'pino';

const entry = process.env.PLUGD_ENTRY ?? new URL('../../dist/src/index.js', import.meta.url).href;
const { createSupervisor } = await import(entry);
const options = JSON.parse(process.env.PLUGD_OPTIONS ?? '{}');
const sup = await createSupervisor({ root: process.argv[2], logger: pino({ level: 'silent' }), activationTimeoutMs: 60_000, ...options });
await sup.restored();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void sup.close().then(() => process.exit(0));
});
