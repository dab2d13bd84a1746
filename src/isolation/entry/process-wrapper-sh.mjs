// Runs one process plugin for plugd, as a POSIX shell (dash: ~1.7 MB RSS, ~0.15 MB PSS) between
// the host and the plugin, started as `setpriv --pdeathsig TERM -- sh -c WRAPPER_SCRIPT ...`:
//
//   host ──parent-death signal (kernel)──> wrapper ──setsid, own process group──> plugin (+ children)
//        <──stdout: "pid N"────────────    fd 3, fd 4 (log pump sockets) ──> plugin's stdout, stderr
//
// The kernel sends SIGTERM when the host dies, SIGKILL included; the trap takes the plugin's whole
// group down (SIGTERM, then SIGKILL after the grace). The trap is set before anything is spawned,
// and a parent that is no longer the host (it died before the death signal was armed) starts nothing.

/** The wrapper, run as `sh -c WRAPPER_SCRIPT plugd-wrapper <grace s> <host pid> <command> [args...]`. */
export const WRAPPER_SCRIPT = `grace=$1
host=$2
shift 2
pid=

end() {
  trap '' TERM INT HUP PIPE
  pid=\${pid:-$!} # a trap may run between the spawn and pid=$!
  if [ -n "$pid" ]; then
    # The pid as well as the group: the plugin may not have called setsid yet.
    kill -s TERM "$pid" 2>/dev/null
    kill -s TERM -- "-$pid" 2>/dev/null
    /usr/bin/env -i /bin/sleep "$grace" 2>/dev/null
    kill -s KILL "$pid" 2>/dev/null # first the leader, so that it forks nothing after the group's kill
    kill -s KILL -- "-$pid" 2>/dev/null
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
kill -s KILL -- "-$pid" 2>/dev/null # whatever the plugin left behind in its group
exit "$code"
`;
