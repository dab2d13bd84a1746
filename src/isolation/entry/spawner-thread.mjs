// The spawner thread: starts the wrapper of every process plugin of one supervisor, so that the
// fork (8–14 ms under load) never blocks the host's event loop.
//
//   main thread ──{ spawn }──> spawner thread ──connect──> log pump socket (×2: stdout, stderr)
//               <─spawned, pid, exit─        └──spawn──> wrapper ──> plugin
//   main thread ──process.kill(pid)──> wrapper, plugin's group   (signals stay synchronous)
//
// The wrappers are this thread's children: the lean wrapper's parent-death signal fires when the
// thread that forked it ends, so this thread lives as long as the supervisor. Asked to close, it
// ends once its last wrapper has exited.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { wrapperCommand } from './process-wrapper-sh.mjs';

/** @typedef {import('../spawner-protocol.ts').SpawnRequest} SpawnRequest */
/** @typedef {import('../spawner-protocol.ts').SpawnerRequest} SpawnerRequest */
/** @typedef {import('../spawner-protocol.ts').SpawnerReply} SpawnerReply */
/** @typedef {import('../spawner-protocol.ts').WireError} WireError */

if (!parentPort) throw new Error('spawner-thread.mjs must run in a worker thread');
const port = parentPort;

/** Starts under way and wrappers not exited: a close waits for them. */
let running = 0;
let closing = false;

/** @param {SpawnerReply} reply */
function post(reply) {
  port.postMessage(reply);
}

/** @param {unknown} e @returns {WireError} */
function wire(e) {
  const error = e instanceof Error ? e : new Error(String(e));
  const code = /** @type {{ code?: unknown }} */ (error).code;
  return typeof code === 'string' ? { message: error.message, code } : { message: error.message };
}

/** @param {SpawnRequest} request */
async function start(request) {
  const { seq } = request;
  running++; // from now: a close waits for this wrapper
  /** @type {net.Socket[]} */
  let pump = [];
  if (request.lean) {
    const connected = await Promise.allSettled([pumpStream(request, 'stdout'), pumpStream(request, 'stderr')]);
    pump = connected.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []));
    const refused = connected.find((c) => c.status === 'rejected');
    if (refused) {
      for (const s of pump) s.destroy();
      post({ type: 'failed', seq, error: wire(refused.reason) });
      return ended();
    }
  }
  /** @type {import('node:child_process').ChildProcess} */
  let child;
  try {
    child = request.lean ? spawnLean(request, request.lean, pump) : spawnNode(request);
  } catch (e) {
    post({ type: 'error', seq, error: wire(e) });
    return ended();
  } finally {
    for (const s of pump) s.destroy(); // the wrapper holds its own copies now (or never started)
  }
  const wrapper = child.pid;
  if (wrapper !== undefined) {
    post({ type: 'spawned', seq, pid: wrapper });
    if (!request.lean && request.nice > 0) {
      try {
        setPriority(wrapper, request.nice);
      } catch {
        /* not permitted: normal priority */
      }
    }
    readWrapper(seq, wrapper, /** @type {import('node:stream').Readable} */ (child.stdout));
  }
  child.on('error', (e) => {
    post({ type: 'error', seq, error: wire(e) });
    if (wrapper === undefined) ended(); // never started (a missing cwd...): no exit follows
  });
  child.on('exit', (code, signal) => {
    post({ type: 'exit', seq, code, signal });
    ended();
  });
}

/** One wrapper less to wait for. */
function ended() {
  running--;
  if (closing && running === 0) port.close(); // nothing else holds the loop: the thread ends
}

/**
 * The wrapper says one thing, once: "pid N\n". Anything else on that pipe (the plugin can open
 * it through /proc) is malformed; a pid is trusted only if it is a child of the wrapper, since
 * the host signals its group.
 * @param {number} seq @param {number} wrapper @param {import('node:stream').Readable} stdout
 */
function readWrapper(seq, wrapper, stdout) {
  let buffered = '';
  stdout.setEncoding('utf8');
  /** @param {string} text */
  const onData = (text) => {
    buffered += text;
    const nl = buffered.indexOf('\n');
    if (nl === -1 && buffered.length < 32) return;
    stdout.off('data', onData);
    stdout.resume(); // whatever follows is drained, never read
    const pid = pluginPid(nl === -1 ? buffered : buffered.slice(0, nl), wrapper);
    if (typeof pid === 'number') post({ type: 'pid', seq, pid });
    else if (pid === 'malformed') post({ type: 'malformed', seq });
  };
  stdout.on('data', onData);
}

/**
 * The plugin's pid from the wrapper's line, if the line is well-formed and names the wrapper's child.
 * @param {string} line @param {number} wrapper @returns {number | 'malformed' | 'gone'}
 */
export function pluginPid(line, wrapper) {
  const match = /^pid ([1-9]\d{0,9})$/.exec(line);
  if (!match) return 'malformed';
  const pid = Number(match[1]);
  if (pid <= 1 || pid === process.pid || pid === wrapper) return 'malformed';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === wrapper ? pid : 'malformed';
  } catch {
    return 'gone'; // the plugin has ended already: its wrapper ends its group
  }
}

/**
 * `[nice -n N] <wrapperCommand>`, each exec'ing the next (one process): the kernel signals the
 * wrapper when this thread ends, and nice applies before the plugin is spawned, so the plugin
 * inherits it.
 * @param {SpawnRequest} request @param {import('../spawner-protocol.ts').LeanTools} lean @param {net.Socket[]} pump
 */
function spawnLean(request, lean, [stdout, stderr]) {
  let increment = 0;
  try {
    increment = request.nice - getPriority(); // this thread's: the wrapper inherits it
  } catch {
    /* unknown: leave it */
  }
  const nice = lean.nice && increment > 0 ? [lean.nice, '-n', String(increment)] : [];
  const [command, ...args] = [
    ...nice,
    // The wrapper checks its parent is still this process (threads share its pid), and starts nothing when it is not.
    ...wrapperCommand({
      setpriv: lean.setpriv,
      graceMs: request.graceMs,
      hostPid: process.pid,
      command: request.command,
      args: request.args,
    }),
  ];
  return spawn(/** @type {string} */ (command), args, {
    cwd: request.cwd,
    env: { ...request.env, PLUGD_SOCKET: request.socketPath },
    // fd 1 carries "pid N"; fds 3 and 4 become the plugin's stdout and stderr.
    stdio: ['ignore', 'pipe', 'ignore', /** @type {net.Socket} */ (stdout), /** @type {net.Socket} */ (stderr)],
  });
}

/** The Node wrapper (no setpriv here): its stdin is the lifeline, never written. @param {SpawnRequest} request */
function spawnNode(request) {
  const config = {
    command: request.command,
    args: request.args,
    cwd: request.cwd,
    logSocket: request.logSocket,
    id: request.id,
    name: request.name,
    instance: request.instance,
    graceMs: request.graceMs,
    // The wrapper checks its parent is still this process, and ends the plugin when it is not.
    hostPid: process.pid,
  };
  return spawn(process.execPath, [request.nodeWrapper], {
    env: { ...request.env, PLUGD_SOCKET: request.socketPath, PLUGD_WRAPPER: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
}

/**
 * A connection to the log pump, announced with the header it expects.
 * @param {SpawnRequest} request @param {'stdout' | 'stderr'} stream @returns {Promise<net.Socket>}
 */
function pumpStream(request, stream) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(request.logSocket);
    socket.once('error', reject);
    const header = `${JSON.stringify({ id: request.id, name: request.name, instance: request.instance, stream })}\n`;
    socket.once('connect', () => socket.write(header, (e) => (e ? reject(e) : resolve(socket))));
  });
}

port.on('message', (/** @type {SpawnerRequest} */ request) => {
  if (request.type === 'close') {
    closing = true;
    if (running === 0) port.close();
  } else if (request.type === 'spawn') {
    void start(request);
  }
  // Anything else is ignored: throwing here would end the thread, and with it every process plugin.
});
