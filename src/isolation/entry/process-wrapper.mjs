// Runs one process plugin for plugd, as a small Node process between the host and the plugin:
//
//   host ──stdin (lifeline)──> wrapper ──spawn, own process group──> plugin (+ its children)
//        <──stdout: "pid N"───   │ plugin stdout/stderr ──unix socket──> log pump thread
//
// The plugin gets a process group of its own, so a stop reaches its children too. The wrapper
// takes the whole group down (SIGTERM, then SIGKILL) as soon as it loses its host, however it
// learns it: the lifeline reaches EOF, a write to the host fails (EPIPE), its parent is no longer
// the host, a signal, or an error of its own. Every handler is in place before the spawn, so a
// host killed at any moment of the wrapper's start leaves no orphan.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { constants } from 'node:os';

/** How often the wrapper checks that its parent is still the host (a lost lifeline's backstop). */
const PARENT_POLL_MS = 250;

/** @type {import('node:child_process').ChildProcess | null} */
let child = null;
let ending = false;

/** @param {NodeJS.Signals} signal */
function signalGroup(signal) {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

/** The host is gone or wants the plugin gone: SIGTERM to the group, SIGKILL after the grace. */
function endGroup() {
  if (ending) return;
  ending = true;
  if (child?.pid === undefined) process.exit(0); // nothing started: nothing to end
  signalGroup('SIGTERM');
  setTimeout(() => {
    signalGroup('SIGKILL');
    process.exit(137);
  }, config.graceMs).unref();
}

// First, before anything can fail: whatever happens to the wrapper, the group goes with it.
process.on('uncaughtException', () => {
  signalGroup('SIGKILL');
  process.exit(70);
});
for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGPIPE'])) process.on(signal, endGroup);
process.stdout.on('error', endGroup); // EPIPE: the host's end of the pipe is closed
// The lifeline: stdin is a pipe from the host that is never written; its end means the host is gone.
process.stdin.on('end', endGroup);
process.stdin.on('error', endGroup);
process.stdin.resume();

/**
 * @type {{
 *   command: string, args: string[], cwd: string, logSocket: string, id: string, name: string,
 *   instance: number, graceMs: number, hostPid: number
 * }}
 */
const config = JSON.parse(process.env.PLUGD_WRAPPER ?? '{}');
delete process.env.PLUGD_WRAPPER;

// A parent that is not the host (re-parented to init or a subreaper) means the host died before
// or during this start: nothing is spawned then, and the same check runs for as long as we live.
const hostGone = () => typeof config.hostPid === 'number' && process.ppid !== config.hostPid;
if (hostGone()) process.exit(0);
setInterval(() => {
  if (hostGone()) endGroup();
}, PARENT_POLL_MS).unref();

child = spawn(config.command, config.args, { cwd: config.cwd, env: process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });

child.on('error', (e) => {
  safeWrite(process.stderr, `plugd wrapper: cannot start ${config.command}: ${e.message}\n`);
  process.exit(127);
});
child.on('spawn', () => {
  if (ending)
    signalGroup('SIGTERM'); // the host went while the plugin was starting
  else safeWrite(process.stdout, `pid ${child?.pid}\n`);
});
child.on('exit', (code, signal) => {
  signalGroup('SIGKILL'); // whatever the plugin left behind in its group
  process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1));
});

for (const stream of /** @type {const} */ (['stdout', 'stderr'])) {
  const output = /** @type {import('node:stream').Readable} */ (child[stream]);
  const socket = net.connect(config.logSocket);
  // Without the pump the output is drained, never left to block the plugin on a full pipe.
  socket.on('error', () => {
    output.unpipe(socket);
    output.resume();
  });
  socket.write(`${JSON.stringify({ id: config.id, name: config.name, instance: config.instance, stream })}\n`);
  output.pipe(socket);
}

/** A write that cannot throw; a failure shows on the stream's 'error' (handled above for stdout). */
/** @param {NodeJS.WriteStream} stream @param {string} text */
function safeWrite(stream, text) {
  try {
    stream.write(text);
  } catch {
    endGroup();
  }
}
