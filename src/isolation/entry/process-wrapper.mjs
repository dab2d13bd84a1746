// Runs one process plugin for plugd, as a small Node process between the host and the plugin:
//
//   host ──stdin (lifeline)──> wrapper ──spawn, own process group──> plugin (+ its children)
//                               │ plugin stdout/stderr ──unix socket──> log pump thread
//
// The plugin gets a process group of its own, so a stop reaches its children too. When the
// host goes away for any reason, SIGKILL included, the lifeline pipe reaches EOF and the wrapper
// takes the whole group down (SIGTERM, then SIGKILL): no orphan outlives the host.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { constants } from 'node:os';

/** @type {{ command: string, args: string[], cwd: string, logSocket: string, id: string, name: string, instance: number, graceMs: number }} */
const config = JSON.parse(process.env.PLUGD_WRAPPER ?? '{}');
delete process.env.PLUGD_WRAPPER;

const child = spawn(config.command, config.args, { cwd: config.cwd, env: process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
let ending = false;

/** @param {NodeJS.Signals} signal */
function signalGroup(signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

function endGroup() {
  if (ending) return;
  ending = true;
  signalGroup('SIGTERM');
  setTimeout(() => signalGroup('SIGKILL'), config.graceMs).unref();
}

child.on('error', (e) => {
  process.stderr.write(`plugd wrapper: cannot start ${config.command}: ${e.message}\n`);
  process.exit(127);
});
child.on('spawn', () => process.stdout.write(`pid ${child.pid}\n`));
child.on('exit', (code, signal) => {
  signalGroup('SIGKILL'); // whatever the plugin left behind in its group
  process.exit(code ?? 128 + (signal ? constants.signals[signal] ?? 1 : 1));
});

for (const stream of /** @type {const} */ (['stdout', 'stderr'])) {
  const output = child[stream];
  const socket = net.connect(config.logSocket);
  socket.write(`${JSON.stringify({ id: config.id, name: config.name, instance: config.instance, stream })}\n`);
  output.pipe(socket);
  // Without the pump the output is drained, never left to block the plugin on a full pipe.
  socket.on('error', () => { output.unpipe(socket); output.resume(); });
}

// The lifeline: stdin is a pipe from the host that is never written; its end means the host is gone.
process.stdin.on('end', endGroup);
process.stdin.on('error', endGroup);
process.stdin.resume();
for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) process.on(signal, endGroup);
