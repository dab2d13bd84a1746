// The log pump thread: reads every plugin's log port, and the raw output of process plugins on a
// UNIX socket; keeps the last lines per plugin in a ring and appends them to <root>/logs/<id>.log,
// rotated by size. Plugin output never touches the main thread; it only asks for a tail.
import { chmodSync, closeSync, openSync, readSync, renameSync, fstatSync, statSync, writeSync, existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { DROPPED_LINES, LOGGED_LINES, SLOT_COUNT } from '../../isolation/wire-constants.mjs';
import { createDropNotice, dropNoticeMessage } from '../drop-notice.mjs';
import { createRateLimiter } from '../rate-limiter.mjs';

if (!parentPort) throw new Error('pump-worker.mjs must run in a worker thread');
const port = parentPort;
const options = /** @type {import('../pump-protocol.ts').PumpOptions} */ (workerData);
const TAIL_READ_BYTES = 256 * 1024;

/** @typedef {{ ring: string[], fd: number | null, bytes: number }} PluginLog */
/** @type {Map<string, PluginLog>} */
const logs = new Map();

/** @param {string} id */
function fileOf(id) {
  return path.join(options.logsDir, `${id}.log`);
}

/** @param {string} id @returns {PluginLog} */
function logOf(id) {
  let log = logs.get(id);
  if (!log) {
    log = { ring: [], fd: null, bytes: 0 };
    logs.set(id, log);
  }
  return log;
}

/** @param {string} id @param {PluginLog} log */
function openFile(id, log) {
  log.fd = openSync(fileOf(id), 'a', 0o600);
  log.bytes = fstatSync(log.fd).size;
}

/** @param {string} id @param {string[]} lines */
function append(id, lines) {
  const log = logOf(id);
  log.ring.push(...lines);
  // Trim in chunks so the ring costs O(1) per line.
  if (log.ring.length > options.keepLines * 2) log.ring.splice(0, log.ring.length - options.keepLines);
  try {
    if (log.fd === null) openFile(id, log);
    const chunk = lines.join('');
    writeSync(/** @type {number} */ (log.fd), chunk);
    log.bytes += Buffer.byteLength(chunk);
    if (log.bytes > options.maxFileBytes) {
      closeSync(/** @type {number} */ (log.fd));
      renameSync(fileOf(id), `${fileOf(id)}.1`);
      openFile(id, log);
    }
  } catch {
    // A full or removed disk must not stop the pump: the ring still holds the lines.
    log.fd = null;
  }
}

/** @param {string} line @returns {import('../pump-protocol.ts').LogLine} */
function parse(line) {
  try {
    return JSON.parse(line);
  } catch {
    return { level: 30, time: 0, plugin: '', instance: 0, msg: line.trimEnd() };
  }
}

/** The last lines of a plugin's file, for plugins with nothing in memory (e.g. after a restart of the host). */
/** @param {string} id @param {number} count */
function tailOfFile(id, count) {
  if (!existsSync(fileOf(id))) return [];
  const fd = openSync(fileOf(id), 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_READ_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter(Boolean);
    if (length < size) lines.shift(); // the first line may be cut
    return lines.slice(-count);
  } finally {
    closeSync(fd);
  }
}

/**
 * Where a plugin's file ends now. Asked right after a tail in this same thread, which alone writes
 * and rotates the file: the tail's lines end exactly here.
 * @param {string} id @returns {import('../pump-protocol.ts').LogCut}
 */
function endOf(id) {
  const fd = logs.get(id)?.fd ?? null;
  try {
    const info = fd !== null ? fstatSync(fd, { bigint: true }) : statSync(fileOf(id), { bigint: true, throwIfNoEntry: false });
    if (info) return { ino: info.ino, birth: info.birthtimeNs, offset: Number(info.size) };
  } catch {
    // Unreadable: a follower starts with whatever file comes next.
  }
  return { ino: 0n, birth: 0n, offset: 0 };
}

/** Counters shared with the main thread, per process instance ("id#instance"). */
/** @type {Map<string, Int32Array>} */
const processSlots = new Map();
/**
 * One logger, rate limit and drop notice per process instance ("id#instance"), shared by its
 * stdout and stderr; forgotten when both have closed (a pending notice still gets written).
 * @typedef {{
 *   log: import('pino').Logger, admit: () => boolean, notice: ReturnType<typeof createDropNotice>, streams: number
 * }} ProcessOutput
 * @type {Map<string, ProcessOutput>}
 */
const processOutputs = new Map();

/** @param {{ id: string, name: string, instance: number }} header */
function processOutputOf(header) {
  const key = `${header.id}#${header.instance}`;
  let output = processOutputs.get(key);
  if (!output) {
    const log = pino(
      { base: { plugin: header.name, instance: header.instance } },
      { write: (/** @type {string} */ l) => append(header.id, [l]) },
    );
    const notice = createDropNotice((dropped) => log.warn({ dropped }, dropNoticeMessage(dropped, options.ratePerSec)));
    output = { log, admit: createRateLimiter(options.ratePerSec, options.burst), notice, streams: 0 };
    processOutputs.set(key, output);
  }
  return output;
}

/**
 * One process instance's stream (stdout or stderr): framed by line, rate-limited, logged with a
 * pino logger tagged { plugin, instance, stream } into the plugin's ring and file.
 * @param {net.Socket} socket
 */
function readProcessOutput(socket) {
  let buffered = '';
  /** @type {{ log: import('pino').Logger, level: 'info' | 'warn', key: string, output: ProcessOutput } | null} */
  let stream = null;
  socket.setEncoding('utf8');
  socket.on('data', (/** @type {string} */ text) => {
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!stream) {
        try {
          const header = JSON.parse(line);
          const output = processOutputOf(header);
          output.streams += 1;
          const level = header.stream === 'stderr' ? 'warn' : 'info';
          stream = { log: output.log.child({ stream: header.stream }), level, key: `${header.id}#${header.instance}`, output };
        } catch {
          socket.destroy();
          return;
        }
        continue;
      }
      const slots = processSlots.get(stream.key);
      if (!stream.output.admit()) {
        if (slots) Atomics.add(slots, DROPPED_LINES, 1);
        stream.output.notice.drop();
        continue;
      }
      if (slots) Atomics.add(slots, LOGGED_LINES, 1);
      stream.log[stream.level](line);
    }
    stream?.output.notice.report();
    if (buffered.length > 64 * 1024) buffered = ''; // a line that long is dropped, not buffered
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    if (!stream || --stream.output.streams > 0) return;
    stream.output.notice.report();
    processOutputs.delete(stream.key);
    processSlots.delete(stream.key);
    settleEnded(stream.key);
  });
}

/**
 * Who waits for a process instance's output to end ("id#instance"): asked for its last stderr
 * lines, answered once both its streams have closed.
 * @type {Map<string, (() => void)[]>}
 */
const endWaiters = new Map();

/** @param {string} key */
function settleEnded(key) {
  const waiters = endWaiters.get(key) ?? [];
  endWaiters.delete(key);
  for (const answer of waiters) answer();
}

/** Lines a tail leaves out: blank ones and stack frames, so an uncaught error's message stays in view. */
const NOT_TELLING = /^\s*$|^\s+at /;

/**
 * The text of the last `count` stderr lines of one process instance, oldest first.
 * @param {string} id @param {number} instance @param {number} count
 */
function stderrTail(id, instance, count) {
  const ring = logs.get(id)?.ring ?? [];
  /** @type {string[]} */
  const found = [];
  for (let i = ring.length - 1; i >= 0 && found.length < count; i--) {
    const line = /** @type {string} */ (ring[i]);
    if (!line.includes('"stderr"')) continue;
    const entry = parse(line);
    if (entry.instance !== instance || entry.stream !== 'stderr' || typeof entry.msg !== 'string') continue;
    if (!NOT_TELLING.test(entry.msg)) found.push(entry.msg);
  }
  return found.reverse();
}

/** Serves the process socket from the first process plugin on; hosts without any have none. */
/** @type {net.Server | null} */
let processServer = null;
/** @param {number} seq */
function listenForProcesses(seq) {
  const reply = () => port.postMessage({ type: 'listening', seq });
  if (processServer?.listening) return reply();
  if (!processServer) {
    processServer = net.createServer(readProcessOutput);
    processServer.unref();
    rmSync(options.processSocket, { force: true });
    processServer.listen(options.processSocket, () => chmodSync(options.processSocket, 0o600));
  }
  processServer.once('listening', reply);
}

/**
 * The log ports of each plugin's instances. A batch a plugin posted before its host asked for a
 * tail (or for the close) can still wait on its own port: messages on two ports have no order
 * between them, so those requests first take what is queued.
 * @type {Map<string, Set<import('node:worker_threads').MessagePort>>}
 */
const attached = new Map();

/** @param {string} id @param {import('node:worker_threads').MessagePort} logPort */
function attach(id, logPort) {
  logOf(id);
  let ports = attached.get(id);
  if (!ports) attached.set(id, (ports = new Set()));
  ports.add(logPort);
  logPort.on('message', (/** @type {unknown} */ lines) => accept(id, logPort, lines));
  logPort.on('messageerror', () => refuse(id, logPort));
  // (No receiveMessageOnPort here: on a closing port it crashes Node 20 with a segfault.)
  logPort.on('close', () => {
    ports.delete(logPort);
    if (ports.size === 0 && attached.get(id) === ports) attached.delete(id);
  });
}

/**
 * A batch is what plugin-output.mjs posts: an array of strings. The plugin's code shares its
 * thread and can post anything on the port: anything else closes that port (the instance logs
 * no more), is noted in the plugin's log, and never reaches code that would throw on it.
 * @param {string} id @param {import('node:worker_threads').MessagePort} logPort @param {unknown} lines
 * @returns {boolean} whether the batch was taken
 */
function accept(id, logPort, lines) {
  if (Array.isArray(lines) && lines.every((l) => typeof l === 'string')) {
    append(id, lines);
    return true;
  }
  refuse(id, logPort);
  return false;
}

/** Ports closed for a malformed message (a port can also report one as a 'messageerror'). */
const refused = new WeakSet();

/** @param {string} id @param {import('node:worker_threads').MessagePort} logPort */
function refuse(id, logPort) {
  if (refused.has(logPort)) return;
  refused.add(logPort);
  attached.get(id)?.delete(logPort); // at once: a closing port is never drained (see attach)
  logPort.close();
  const msg = 'the plugin posted a malformed message on its log port; its log port was closed';
  append(id, [`${JSON.stringify({ level: 50, time: Date.now(), plugin: id, code: 'PLUGD_E_PROTOCOL', msg })}\n`]);
}

/** @param {string} id */
function drain(id) {
  for (const logPort of attached.get(id) ?? []) drainPort(id, logPort);
}

/** @param {string} id @param {import('node:worker_threads').MessagePort} logPort */
function drainPort(id, logPort) {
  for (let queued = receiveMessageOnPort(logPort); queued; queued = receiveMessageOnPort(logPort)) {
    if (logs.has(id) && !accept(id, logPort, queued.message)) return; // closed: never read again
  }
}

port.on('message', (/** @type {import('../pump-protocol.ts').PumpRequest} */ msg) => {
  switch (msg.type) {
    case 'listen':
      listenForProcesses(msg.seq);
      break;
    case 'expect':
      processSlots.set(`${msg.id}#${msg.instance}`, new Int32Array(msg.slots, 0, SLOT_COUNT));
      break;
    case 'attach':
      attach(msg.id, msg.port);
      break;
    case 'stderr': {
      const key = `${msg.id}#${msg.instance}`;
      const answer = () => port.postMessage({ type: 'stderr', seq: msg.seq, lines: stderrTail(msg.id, msg.instance, msg.lines) });
      // Still expected (its streams not both closed): answer when the last line has been read.
      if (processSlots.has(key)) endWaiters.set(key, [...(endWaiters.get(key) ?? []), answer]);
      else answer();
      break;
    }
    case 'tail': {
      drain(msg.id);
      const ring = logs.get(msg.id)?.ring ?? [];
      const lines = ring.length > 0 ? ring.slice(-msg.lines) : tailOfFile(msg.id, msg.lines);
      port.postMessage({ type: 'tail', seq: msg.seq, lines: lines.map(parse), end: endOf(msg.id) });
      break;
    }
    case 'forget': {
      for (const key of processSlots.keys()) if (key.startsWith(`${msg.id}#`)) processSlots.delete(key);
      for (const key of [...endWaiters.keys()]) if (key.startsWith(`${msg.id}#`)) settleEnded(key);
      for (const [key, output] of processOutputs) {
        if (!key.startsWith(`${msg.id}#`)) continue;
        output.notice.stop();
        processOutputs.delete(key);
      }
      for (const logPort of attached.get(msg.id) ?? []) logPort.close();
      attached.delete(msg.id);
      const log = logs.get(msg.id);
      if (log?.fd != null) closeSync(log.fd);
      logs.delete(msg.id);
      break;
    }
    case 'close':
      for (const id of attached.keys()) drain(id);
      for (const key of [...endWaiters.keys()]) settleEnded(key);
      processServer?.close();
      for (const log of logs.values()) if (log.fd !== null) closeSync(log.fd);
      logs.clear();
      port.postMessage({ type: 'closed', seq: msg.seq });
      port.close();
      break;
  }
});
