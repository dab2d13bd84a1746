// Inside a plugin thread, before any plugin module loads: the host's own process is not a
// plugin's to signal. process.kill (and the _kill it calls) refuse the host's pid, its process
// group, 0 (the caller's group) and -1 (every process the user owns); signal 0 (a liveness
// check) and every other pid still work. A plugin thread shares the host's process, so this
// closes the obvious call, not every way out: see docs/trust.md.
import { readFileSync } from 'node:fs';

const hostPid = process.pid;
const hostGroup = processGroup();

/** The host's process group, from /proc/self/stat (field 5); null where there is no /proc. */
function processGroup() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

/** @param {unknown} pid @param {unknown} signal */
function refused(pid, signal) {
  if (signal === 0 || signal === '0') return false;
  const n = Number(pid);
  return n === hostPid || n === 0 || n === -1 || (hostGroup !== null && n === -hostGroup);
}

/** @param {unknown} pid */
function refusal(pid) {
  const err = new Error(
    `a plugin cannot signal its host (process.kill(${String(pid)}) refused): a worker plugin runs inside the host's ` +
      `process; to end the plugin, throw or return from its methods`,
  );
  err.name = 'PlugdError';
  return Object.assign(err, { code: 'PLUGD_E_PERMISSION' });
}

for (const name of /** @type {const} */ (['kill', '_kill'])) {
  const original = /** @type {Function | undefined} */ (/** @type {any} */ (process)[name]);
  if (typeof original !== 'function') continue;
  Object.defineProperty(process, name, {
    value: /** @this {unknown} @param {unknown} pid @param {unknown} signal */ (pid, signal) => {
      if (refused(pid, signal ?? 'SIGTERM')) throw refusal(pid);
      return original.call(process, pid, signal);
    },
    writable: false,
    configurable: false,
    enumerable: false,
  });
}
