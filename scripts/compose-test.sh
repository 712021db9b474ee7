#!/usr/bin/env bash
# npm run test:compose: runs compose/docker-compose.yml for real on this machine.
#
# There is no image registry here, so the script starts a private dockerd, makes the two
# base images the files name (node:20-slim, nats:2.10) with `docker import` from this
# machine's own node and nats-server binaries and their shared libraries, builds the app
# image from compose/Dockerfile (over the host network: this dockerd has no NAT bridge), brings
# the topology up with docker-compose, unchanged (its user-defined bridge network needs no NAT:
# containers only talk to each other; docker-proxy publishes the router ports), drives the README walk-through
# through the published router ports (test/compose/walkthrough.ts), and tears everything
# down: containers, volumes, dockerd (by pid), its mounts and its data dir, also on failure.
# It never skips: when dockerd cannot start it fails and says why.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

log() { printf '[compose-test %3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
fail() { log "FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (it starts its own dockerd)"
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || fail "apt-get install ${missing[*]} failed"
fi
[ -f dist/test/compose/walkthrough.js ] || fail "dist/test/compose/walkthrough.js is missing: compile first (npm run test:compose does)"

work=$(mktemp -d /tmp/shardkv-compose-XXXXXX)
# Debian's docker CLI, matching Debian's dockerd (another docker binary may come first on PATH).
docker=/usr/bin/docker
[ -x "$docker" ] || docker=$(command -v docker)
export DOCKER_HOST="unix://$work/docker.sock"
# docker-compose 1.29 builds with the classic builder; BuildKit would need buildx.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
project=shardkv-compose-test
compose=(docker-compose -p "$project" -f compose/docker-compose.yml)
dockerd_pid=""
compose_up=0

cleanup() {
  status=$?
  set +e
  if [ "$compose_up" -eq 1 ]; then
    if [ "$status" -ne 0 ]; then
      log "container states and last log lines (for the failure above):"
      "${compose[@]}" --profile scale-out ps
      "${compose[@]}" --profile scale-out logs --no-color --tail 15 2>&1 | tail -n 200
    fi
    log "docker-compose down -v"
    timeout 120 "${compose[@]}" --profile scale-out down -v --remove-orphans >/dev/null 2>&1
  fi
  if [ -n "$dockerd_pid" ]; then
    # dockerd's own containerd and shims: remembered before stopping dockerd, stopped by pid after.
    children=$(ps -o pid= --ppid "$dockerd_pid" 2>/dev/null; for c in $(ps -o pid= --ppid "$dockerd_pid" 2>/dev/null); do ps -o pid= --ppid "$c"; done)
    kill -TERM "$dockerd_pid" 2>/dev/null
    for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$dockerd_pid" 2>/dev/null
    for child in $children; do kill -KILL "$child" 2>/dev/null; done
    log "dockerd (pid $dockerd_pid) stopped"
  fi
  # Mounts dockerd left under the work dir (overlay layers, netns, shm), deepest first.
  awk -v root="$work" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do umount -l "$mount"; done
  rm -rf "$work"
  log "cleaned $work; exit $status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting a private dockerd in $work"
dockerd --data-root "$work/data" --exec-root "$work/exec" -H "$DOCKER_HOST" --pidfile "$work/dockerd.pid" \
  --iptables=false --ip6tables=false --ip-masq=false --bridge=none >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 60); do
  "$docker" info >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || break
  sleep 0.5
done
if ! "$docker" info >/dev/null 2>&1; then
  tail -n 30 "$work/dockerd.log"
  fail "dockerd did not start (log above): this host cannot run the compose topology"
fi
log "dockerd $("$docker" version --format '{{.Server.Version}}') is up (pid $dockerd_pid)"

# Copies each file with its shared libraries (as ldd resolves them) into a root filesystem.
copy_with_libs() {
  local rootfs=$1; shift
  local file lib
  for file in "$@"; do
    for lib in $(ldd "$file" 2>/dev/null | grep -oE '/[^ ]+' || true); do
      cp -L --parents -n "$lib" "$rootfs"
    done
  done
}

log "making base image node:20-slim from this machine's node $(node --version)"
rootfs="$work/rootfs-node"
mkdir -p "$rootfs"/{usr/local/bin,usr/local/lib/node_modules,bin,usr/bin,etc,root,home/node,tmp}
chmod 1777 "$rootfs/tmp"
chown 1000:1000 "$rootfs/home/node"
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
cp "$node_bin" "$rootfs/usr/local/bin/node"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# The few tools a Dockerfile RUN line and npm's scripts use (node:20-slim has all of Debian's base).
tools=()
for tool in sh mkdir chown chmod rm ls cat env cp mv ln; do tools+=("$(readlink -f "$(command -v "$tool")")"); done
for tool in "${tools[@]}"; do cp "$tool" "$rootfs/usr/bin/"; done
ln -sf /usr/bin/"$(basename "$(readlink -f "$(command -v sh)")")" "$rootfs/bin/sh"
copy_with_libs "$rootfs" "$node_bin" "${tools[@]}"
# This machine reaches the npm registry through a TLS proxy whose CA is in its own bundle
# (node's built-in CAs do not know it): npm ci in the build stage needs the bundle.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
fi
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' >"$rootfs/etc/group"
tar -C "$rootfs" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' - node:20-slim >/dev/null

log "making base image nats:2.10 from this machine's $(nats-server --version)"
rootfs="$work/rootfs-nats"
mkdir -p "$rootfs/tmp"
cp "$(command -v nats-server)" "$rootfs/nats-server"
copy_with_libs "$rootfs" "$rootfs/nats-server"
printf 'port: 4222\nhttp_port: 8222\n' >"$rootfs/nats-server.conf"
tar -C "$rootfs" -c . | "$docker" import \
  --change 'ENTRYPOINT ["/nats-server"]' --change 'CMD ["--config", "/nats-server.conf"]' \
  --change 'EXPOSE 4222 8222' - nats:2.10 >/dev/null

log "building shardkv:latest from compose/Dockerfile (npm ci inside, over the host network)"
"$docker" build --network host -q -f compose/Dockerfile -t shardkv:latest . >"$work/build.log" 2>&1 \
  || { tail -n 40 "$work/build.log"; fail "docker build failed (log above)"; }
log "image built: $("$docker" image inspect shardkv:latest --format '{{.Size}}') bytes"

log "docker-compose up (the ring's groups and both routers)"
compose_up=1
"${compose[@]}" up -d --no-build >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "docker-compose up failed"; }

routers=http://127.0.0.1:7070,http://127.0.0.1:7071
log "walk-through, before scale-out: write keys through router-1, read them through both"
node dist/test/compose/walkthrough.js before --routers "$routers" || fail "the walk-through failed before scale-out"
log "docker-compose --profile scale-out up (the third group, outside the ring)"
"${compose[@]}" --profile scale-out up -d --no-build >>"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "docker-compose up --profile scale-out failed"; }
log "walk-through, scale-out: g3 listed as spare, add it, wait for the rebalance, read every key through both routers"
node dist/test/compose/walkthrough.js scale-out --routers "$routers" --group g3 || fail "the walk-through failed after scale-out"
log "PASSED in $(( $(date +%s) - started )) s"
