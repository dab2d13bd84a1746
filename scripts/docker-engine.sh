#!/bin/sh
# A local Docker Engine for plugd's Docker tests and demo (test/docker/**, `npm start -- --docker`).
#
#   scripts/docker-engine.sh start   installs docker.io and busybox-static when missing (apt-get),
#                                    starts dockerd in the background, waits for it, and builds
#                                    the local test images (no image registry is needed)
#   scripts/docker-engine.sh stop    stops the dockerd that `start` started, by its pid
#   scripts/docker-engine.sh images  rebuilds the local images only
#
# dockerd runs with its defaults (socket /var/run/docker.sock, plugins in /run/docker/plugins,
# where it discovers legacy plugins) and without iptables or a bridge, so it needs nothing from
# the host's network setup. Run as root.
set -eu

PIDFILE=${PLUGD_DOCKERD_PIDFILE:-/run/plugd-dockerd.pid}
LOGFILE=${PLUGD_DOCKERD_LOG:-/tmp/plugd-dockerd.log}
HERE=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'docker-engine: %s\n' "$*" >&2; }

install_packages() {
  missing=''
  command -v dockerd >/dev/null 2>&1 || missing="$missing docker.io"
  [ -x /bin/busybox ] || command -v busybox >/dev/null 2>&1 || missing="$missing busybox-static"
  [ -z "$missing" ] && return 0
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y $missing >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y $missing >/dev/null; }
}

engine_up() { docker version >/dev/null 2>&1; }

start_daemon() {
  if engine_up; then say 'an engine already answers'; return 0; fi
  say "starting dockerd (log: $LOGFILE)"
  # Started in its own session so that it outlives this script.
  setsid dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    --pidfile "$PIDFILE.dockerd" >"$LOGFILE" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  i=0
  until engine_up; do
    i=$((i + 1))
    if [ "$i" -gt 300 ] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      say "dockerd did not answer; its log:"; tail -20 "$LOGFILE" >&2; exit 1
    fi
    sleep 0.1
  done
  say "dockerd answers (pid $(cat "$PIDFILE"))"
}

# A rootfs with busybox's static binary and its applets.
busybox_rootfs() {
  mkdir -p "$1/bin" "$1/tmp" "$1/etc" "$1/proc" "$1/sys" "$1/dev" "$1/run"
  cp "$(command -v busybox)" "$1/bin/busybox"
  for applet in $("$1/bin/busybox" --list); do [ -e "$1/bin/$applet" ] || ln -s busybox "$1/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$1/etc/passwd"
  echo 'root:x:0:' > "$1/etc/group"
}

# Adds the host's node binary with the libraries it links (ldd), and plugd's SDK as the package
# /node_modules/plugd, so that `import 'plugd/sdk'` resolves from any script of the image.
node_rootfs() {
  node=$(readlink -f "$(command -v node)")
  mkdir -p "$1/usr/local/bin"
  cp "$node" "$1/usr/local/bin/node"
  for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
    mkdir -p "$1$(dirname "$lib")"
    cp -L "$lib" "$1$lib"
  done
  sdk="$1/node_modules/plugd"
  mkdir -p "$sdk/sdk" "$sdk/docker"
  cp "$HERE/src/sdk/serve-plugin.mjs" "$sdk/sdk/"
  cp "$HERE/src/docker/docker-protocol.mjs" "$sdk/docker/"
  printf '%s\n' '{ "name": "plugd", "type": "module", "exports": { "./sdk": "./sdk/serve-plugin.mjs" } }' > "$sdk/package.json"
}

build_images() {
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  busybox_rootfs "$tmp/busybox"
  tar -C "$tmp/busybox" -c . | docker import -c 'CMD ["sh"]' - local/busybox >/dev/null
  say 'built local/busybox'

  # local/plugd-node: busybox, node and plugd's SDK, the base of the example container plugins.
  busybox_rootfs "$tmp/node"
  node_rootfs "$tmp/node"
  tar -C "$tmp/node" -c . | docker import -c 'ENV PLUGD_SDK=/node_modules/plugd/sdk/serve-plugin.mjs' \
    -c 'ENV PATH=/usr/local/bin:/bin' -c 'CMD ["node"]' - local/plugd-node >/dev/null
  say 'built local/plugd-node'

  # local/plugd-volumes: the example volume driver (examples/bundles/volumes) in a container.
  mkdir -p "$tmp/node/plugin"
  cp "$HERE/examples/bundles/volumes/server.mjs" "$tmp/node/plugin/server.mjs"
  tar -C "$tmp/node" -c . | docker import -c 'ENV PLUGD_SDK=/node_modules/plugd/sdk/serve-plugin.mjs' \
    -c 'ENV PATH=/usr/local/bin:/bin' -c 'WORKDIR /plugin' -c 'CMD ["node", "/plugin/server.mjs"]' - local/plugd-volumes >/dev/null
  say 'built local/plugd-volumes'

  # local/plugd-managed: the same volume driver as a managed (v2) plugin, left disabled. It runs
  # as PID 1 of its container, where SIGTERM is ignored unless handled: dockerd would wait 10 s.
  mkdir -p "$tmp/managed"
  mv "$tmp/node" "$tmp/managed/rootfs"
  cat > "$tmp/managed/config.json" <<'JSON'
{
  "description": "plugd's example volume driver as a managed plugin",
  "documentation": "https://docs.docker.com/engine/extend/",
  "entrypoint": ["/usr/local/bin/node", "-e", "process.on('SIGTERM', () => process.exit(0)); import('/plugin/server.mjs')"],
  "workdir": "/plugin",
  "env": [
    { "name": "PLUGD_SOCKET", "value": "/run/docker/plugins/volumes.sock", "settable": [] },
    { "name": "PLUGD_SDK", "value": "/node_modules/plugd/sdk/serve-plugin.mjs", "settable": [] }
  ],
  "interface": { "types": ["docker.volumedriver/1.0"], "socket": "volumes.sock" },
  "network": { "type": "none" }
}
JSON
  docker plugin disable --force local/plugd-managed >/dev/null 2>&1 || true
  docker plugin rm --force local/plugd-managed >/dev/null 2>&1 || true
  docker plugin create local/plugd-managed "$tmp/managed" >/dev/null
  say 'built the managed plugin local/plugd-managed (disabled)'
}

stop_daemon() {
  if [ ! -f "$PIDFILE" ]; then say "no $PIDFILE: nothing started by this script"; return 0; fi
  pid=$(cat "$PIDFILE")
  if kill "$pid" 2>/dev/null; then
    i=0
    while kill -0 "$pid" 2>/dev/null; do
      i=$((i + 1))
      [ "$i" -gt 300 ] && { say "dockerd $pid still runs after 30 s; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; break; }
      sleep 0.1
    done
    say "stopped dockerd $pid"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) install_packages; start_daemon; build_images ;;
  images) build_images ;;
  stop) stop_daemon ;;
  *) echo "usage: $0 start|stop|images" >&2; exit 2 ;;
esac
