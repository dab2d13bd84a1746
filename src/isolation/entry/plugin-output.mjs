// Inside a plugin worker: everything the plugin prints becomes a pino line tagged
// { plugin, instance }, rate-limited here at the source and posted in batches on the log port,
// which the log pump thread reads. The main thread never sees a line.
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { createDropNotice, dropNoticeMessage } from '../../logs/drop-notice.mjs';
import { createRateLimiter } from '../../logs/rate-limiter.mjs';
import { DROPPED_LINES, LOGGED_LINES } from '../wire-constants.mjs';

// pino costs ~20 ms of a worker's start (more than half a bare thread start): it is required
// synchronously on first use, so a plugin that never logs never pays for it.
const require = createRequire(import.meta.url);

const MAX_BATCH = 256;
const MAX_PARTIAL_LINE = 64 * 1024;

/**
 * @param {import('../protocol.ts').PluginInit} data
 * @param {Int32Array} slots
 */
export function createPluginOutput(data, slots) {
  const { ratePerSec, burst } = data.log;
  const admit = createRateLimiter(ratePerSec, burst);
  /** @type {string[]} */
  let batch = [];
  let scheduled = false;
  // The notice itself bypasses the limiter: one per interval at most.
  const notice = createDropNotice((dropped, now) => {
    batch.push(
      `${JSON.stringify({
        level: 40,
        time: now,
        plugin: data.name,
        instance: data.instance,
        dropped,
        msg: dropNoticeMessage(dropped, ratePerSec),
      })}\n`,
    );
    schedule();
  });

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  /** @param {string} line */
  function accept(line) {
    if (!admit()) {
      Atomics.add(slots, DROPPED_LINES, 1);
      notice.drop();
      schedule();
      return;
    }
    Atomics.add(slots, LOGGED_LINES, 1);
    batch.push(line);
    if (batch.length >= MAX_BATCH) flush();
    else schedule();
  }

  function flush() {
    scheduled = false;
    notice.report();
    if (batch.length === 0) return;
    data.logPort.postMessage(batch);
    batch = [];
  }

  /** @type {import('pino').Logger | null} */
  let logger = null;
  function log() {
    if (!logger) {
      const { pino } = /** @type {typeof import('pino')} */ (require('pino'));
      logger = pino({ base: { plugin: data.name, instance: data.instance }, level: data.log.level }, { write: accept });
    }
    return logger;
  }

  console.log = (...a) => log().info(format(...a));
  console.info = (...a) => log().info(format(...a));
  console.debug = (...a) => log().debug(format(...a));
  console.trace = (...a) => log().trace(format(...a));
  console.warn = (...a) => log().warn(format(...a));
  console.error = (...a) => log().error(format(...a));

  captureStream(process.stdout, (line) => log().info({ stream: 'stdout' }, line));
  captureStream(process.stderr, (line) => log().warn({ stream: 'stderr' }, line));

  return {
    /** The plugin's pino logger (created on first use). */
    get log() {
      return log();
    },
    flush,
  };
}

/**
 * Replaces a stdio stream's write with one that frames its bytes by line.
 * @param {NodeJS.WriteStream} stream
 * @param {(line: string) => void} emit
 */
function captureStream(stream, emit) {
  let partial = '';
  /** @type {any} */ (stream).write = (/** @type {unknown} */ chunk, /** @type {unknown} */ encoding, /** @type {unknown} */ cb) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(/** @type {Uint8Array} */ (chunk)).toString('utf8');
    partial += text;
    let nl;
    while ((nl = partial.indexOf('\n')) !== -1) {
      emit(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
    if (partial.length > MAX_PARTIAL_LINE) {
      emit(partial);
      partial = '';
    }
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => done());
    return true;
  };
}
