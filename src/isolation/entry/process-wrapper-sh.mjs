// Runs one process plugin for plugd, as a POSIX shell (dash: ~1.7 MB RSS, ~0.15 MB PSS) between
// the host and the plugin, started as `setpriv --pdeathsig TERM -- sh -c WRAPPER_SCRIPT ...`:
//
//   host ──parent-death signal (kernel)──> wrapper ──setsid, own process group──> plugin (+ children)
//        <──stdout: "pid N"────────────    fd 3, fd 4 (log pump sockets) ──> plugin's stdout, stderr
//
// The kernel sends SIGTERM when the host dies, SIGKILL included; the trap takes the plugin's whole
// group down: SIGTERM, then SIGKILL once the grace has passed, or an exit as soon as the group has
// ended, whichever comes first. The trap is set before anything is spawned,
// and a parent that is no longer the host (it died before the death signal was armed) starts nothing.

/** The wrapper, run as `sh -c WRAPPER_SCRIPT plugd-wrapper <grace ms> <host pid> <command> [args...]`. */
export const WRAPPER_SCRIPT = `grace=$1
host=$2
shift 2
pid=

# Whether the plugin's leader or anyone in its group still runs. A zombie does not count: a child
# the plugin left behind is reparented to init and stays a zombie until init reaps it, which can
# take seconds (or forever, under a PID 1 that never reaps). /proc/N/stat, after the last ") ":
# state, ppid, pgrp.
lives() {
  kill -s 0 -- "-$pid" 2>/dev/null || kill -s 0 "$pid" 2>/dev/null || return 1
  for stat in /proc/[0-9]*/stat; do
    read -r line < "$stat" 2>/dev/null || continue
    set -- \${line##*') '}
    [ "$1" != Z ] && { [ "$3" = "$pid" ] || [ "\${stat#/proc/}" = "$pid/stat" ]; } && return 0
  done
  return 1
}

# Waits (in 50 ms steps) until the plugin's group has ended, at most the grace.
settle() {
  steps=$(( (grace + 49) / 50 ))
  while [ "$steps" -gt 0 ] && lives; do
    /usr/bin/env -i /bin/sleep 0.05 2>/dev/null
    steps=$((steps - 1))
  done
}

end() {
  trap '' TERM INT HUP PIPE
  pid=\${pid:-$!} # a trap may run between the spawn and pid=$!
  if [ -n "$pid" ]; then
    # The pid as well as the group: the plugin may not have called setsid yet.
    kill -s TERM "$pid" 2>/dev/null
    kill -s TERM -- "-$pid" 2>/dev/null
    settle
    if lives; then
      kill -s KILL "$pid" 2>/dev/null # first the leader, so that it forks nothing after the group's kill
      kill -s KILL -- "-$pid" 2>/dev/null
    fi
  fi
  exit 0
}
trap end TERM INT HUP PIPE

[ "$PPID" = "$host" ] || exit 0

/usr/bin/setsid "$@" >&3 2>&4 3>&- 4>&- &
pid=$!
echo "pid $pid" || end
wait "$pid"
code=$?
trap '' TERM INT HUP PIPE
kill -s KILL -- "-$pid" 2>/dev/null # whatever the plugin left behind in its group
settle # the wrapper's exit says the whole group has ended
exit "$code"
`;

/**
 * The wrapper's command line, `setpriv --pdeathsig TERM -- sh -c WRAPPER_SCRIPT ...`, each exec'ing
 * the next (one process): the kernel signals the wrapper when the thread that forked it ends.
 * @param {{ setpriv: string, graceMs: number, hostPid: number, command: string, args: readonly string[] }} plugin
 * @returns {string[]} the argv, `setpriv` first
 */
export function wrapperCommand({ setpriv, graceMs, hostPid, command, args }) {
  return [
    setpriv,
    '--pdeathsig',
    'TERM',
    '--',
    '/bin/sh',
    '-c',
    WRAPPER_SCRIPT,
    'plugd-wrapper',
    String(graceMs),
    String(hostPid),
    command,
    ...args,
  ];
}
