#!/usr/bin/env bash
# Builds the Dockerfile and runs the image as a Docker user would, without a Docker daemon or Docker Hub:
# buildah (chroot isolation) builds it on stand-in base images made from a local debootstrap of bookworm.
# Prints "ok - …" / "FAIL - …" lines and exits non-zero on any failure.
#   BANTICO_DOCKER_CACHE  where the bookworm base images and buildah's storage are kept between runs
set -uo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

cache=${BANTICO_DOCKER_CACHE:-/var/tmp/bantico-docker-test}
image=localhost/bantico-docker-test
debian_base=docker.io/library/debian:bookworm-slim
node_base=docker.io/library/node:20-bookworm-slim
started=$SECONDS
passed=0
failed=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
check() { # check NAME COMMAND...: ok when COMMAND succeeds, else FAIL with what it printed
  local output
  if output=$("${@:2}" 2>&1); then ok "$1"; else fail "$1"; [ -z "$output" ] || sed 's/^/    /' <<<"$output" | tail -20; fi
}
fails() { ! "$@"; }
give_up() { fail "$1"; echo "docker-test: gave up after $((SECONDS - started)) s"; exit 1; }
# One storage of our own, so the cached bases and layers never mix with anything else on the machine.
storage=(--root "$cache/storage" --runroot "$cache/run")
bh() { buildah "${storage[@]}" "$@"; }

missing=()
for tool in buildah:buildah debootstrap:debootstrap curl:curl flock:util-linux pgrep:procps; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "::: installing ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    give_up "apt-get install ${missing[*]}"
fi
node_version=$(node --version 2>/dev/null) || give_up "node is installed (the stand-in node:20 image copies this machine's)"
[[ $node_version == v20.* ]] || give_up "this machine's node is 20.x for the node:20 stand-in (it is $node_version)"

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9 # one run at a time per cache: debootstrap and the storage are shared
bh rm --all >/dev/null 2>&1 && bh rmi --prune >/dev/null 2>&1 # what an interrupted run left behind

if ! bh inspect --type image "$debian_base" >/dev/null 2>&1; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -E '^(URIs:|deb )' |
    grep -oE 'https?://[^ ]+' | grep -E '/debian/?$' | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  step_started=$SECONDS
  echo "::: debootstrap of bookworm (minbase) from $mirror, once into $cache"
  rootfs="$cache/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log"; give_up "debootstrap of bookworm (log: $cache/debootstrap.log)"; }
  # Slim like the real image: no package lists, downloaded packages or docs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/etc/hostname
  ctr=$(bh from --pull=never scratch) || give_up "buildah from scratch"
  mnt=$(bh mount "$ctr") && cp -a "$rootfs/." "$mnt/" && bh umount "$ctr" >/dev/null &&
    bh config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr" &&
    bh commit --quiet --format docker --rm "$ctr" "$debian_base" >/dev/null ||
    give_up "import the bookworm rootfs as $debian_base"
  rm -rf "$rootfs"
  ok "stand-in $debian_base made by debootstrap ($((SECONDS - step_started)) s)"
else
  ok "stand-in $debian_base from the cache"
fi

# Rebuilt whenever this machine's Node changes: its node and npm, and its CA certificates for npm ci.
if [ "$(bh inspect --type image --format '{{index .Docker.Config.Labels "bantico.node"}}' "$node_base" 2>/dev/null)" != "$node_version" ]; then
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  ctr=$(bh from --pull=never "$debian_base") || give_up "buildah from $debian_base"
  mnt=$(bh mount "$ctr") &&
    mkdir -p "$mnt/usr/local/lib/node_modules" "$mnt/etc/ssl/certs" &&
    cp "$node_bin" "$mnt/usr/local/bin/node" &&
    cp -a "$npm_dir" "$mnt/usr/local/lib/node_modules/npm" &&
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm" &&
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx" &&
    cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/ca-certificates.crt" &&
    bh umount "$ctr" >/dev/null &&
    bh config --cmd node --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
      --label "bantico.node=$node_version" "$ctr" &&
    bh commit --quiet --format docker --rm "$ctr" "$node_base" >/dev/null ||
    give_up "make $node_base from $debian_base and this machine's node $node_version"
fi
ok "stand-in $node_base with this machine's node $node_version, npm and CA certificates"

echo "::: buildah bud (log: $cache/build.log)"
build_started=$SECONDS
if bh bud --isolation chroot --format docker --pull=never -t "$image" . >"$cache/build.log" 2>&1; then
  ok "the Dockerfile builds unchanged ($((SECONDS - build_started)) s)"
else
  tail -30 "$cache/build.log"
  give_up "the Dockerfile builds (log: $cache/build.log)"
fi

image_config() { # image_config KEY[.KEY]: that value of the built image's Docker config, one line per item (or key)
  bh inspect --type image "$image" | node -e '
    let value = JSON.parse(require("fs").readFileSync(0, "utf8")).Docker.config;
    for (const key of process.argv[1].split(".")) value = value?.[key];
    const items = value?.constructor === Object ? Object.keys(value) : [value ?? []].flat();
    for (const item of items) console.log(item);' "$1"
}
mapfile -t entrypoint < <(image_config Entrypoint)
mapfile -t cmd < <(image_config Cmd)
mapfile -t healthcheck < <(image_config Healthcheck.Test)
image_user=$(image_config User)
check "the image runs as a non-root user ($image_user)" test -n "$image_user" -a "$image_user" != root
check "the image declares the volume /data" test "$(image_config Volumes)" = /data
check "the image keeps its HEALTHCHECK (${healthcheck[*]})" test "${healthcheck[0]:-}" = CMD

work=$(mktemp -d)
volume="$work/volume"
containers=()
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  for ctr in "${containers[@]}"; do bh rm "$ctr" >/dev/null 2>&1; done
  bh rmi "$image" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
new_container() { # new_container: sets ctr to a new container of the image, with the volume bound at /data
  ctr=$(bh from --pull=never "$image") || give_up "buildah from $image"
  containers+=("$ctr")
  # buildah 1.28 mounts the image's own (anonymous) /data over a --volume at /data; Docker lets the
  # named volume take its place, so the container forgets the declaration and gets ours.
  bh config --volume /data- "$ctr" || give_up "buildah config --volume /data- $ctr"
}
# What a named volume holds on first use: the image's /data, owned by the image's user.
new_container
data_owner=$(bh run --isolation chroot "$ctr" -- stat -c %u:%g /data) || give_up "read the owner of /data in the image"
mkdir -p "$volume" && chown "$data_owner" "$volume" || give_up "make the volume"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
url="http://127.0.0.1:$port"
# "${in_container[@]}" CONTAINER -- COMMAND...: as the image's user, with the volume at /data and our port
in_container=(buildah "${storage[@]}" run --isolation chroot --volume "$volume:/data" --env "PORT=$port")

start_server() { # start_server: the image's ENTRYPOINT and CMD in a new container; true once /healthz answers
  curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && give_up "port $port is free before the container starts"
  new_container
  "${in_container[@]}" "$ctr" -- "${entrypoint[@]}" "${cmd[@]}" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  tail -20 "$work/server.log"
  return 1
}
running() { local state; state=$(ps -o stat= -p "$1") && [[ $state != Z* ]]; }
stop_server() { # stop_server: what docker stop does; sets stop_status to the container's exit status
  # buildah run answers SIGTERM with SIGKILL to the command, so the signal goes to the command itself.
  local main=$server_pid child
  while child=$(pgrep -P "$main" | head -1) && [ -n "$child" ]; do main=$child; done
  kill -TERM "$main"
  for _ in $(seq 1 50); do running "$server_pid" || break; sleep 0.2; done
  kill -KILL "$server_pid" 2>/dev/null # after docker stop's 10 s grace
  wait "$server_pid"
  stop_status=$?
  server_pid=""
}

start_server || give_up "${entrypoint[*]} ${cmd[*]} serves /healthz with the volume at /data"
ok "${entrypoint[*]} ${cmd[*]} serves /healthz 200 with the volume at /data"
check "the database is in the volume, owned by the image's user ($data_owner)" \
  test "$(stat -c %u:%g "$volume/bantico.sqlite")" = "$data_owner"
check "the HEALTHCHECK command exits 0 against the running server" "${in_container[@]}" "$ctr" -- "${healthcheck[@]:1}"
project_id=$("${in_container[@]}" "$ctr" -- bantico project create --name "Docker test" --json | sed -nE 's/.*"id":"([^"]+)".*/\1/p')
check "bantico project create in the container prints an id" test -n "$project_id"
stop_server
check "the server stops on SIGTERM within 10 s and exits 0" test "$stop_status" -eq 0
check "the HEALTHCHECK command fails once the server is down" fails "${in_container[@]}" "$ctr" -- "${healthcheck[@]:1}"

if start_server; then ok "a new container on the same volume serves /healthz 200"; else
  fail "a new container on the same volume serves /healthz 200"
fi
api_key=$("${in_container[@]}" "$ctr" -- bantico apikey create --project "$project_id" --json | sed -nE 's/.*"key":"([^"]+)".*/\1/p')
check "the project is still there: an API key for it reads it at /api/v1/project" \
  sh -c "curl -fsS -H 'Authorization: Bearer $api_key' '$url/api/v1/project' | grep -q '\"$project_id\"'"
check "the HEALTHCHECK command exits 0 after the restart" "${in_container[@]}" "$ctr" -- "${healthcheck[@]:1}"
stop_server
check "the server stops on SIGTERM again" test "$stop_status" -eq 0

echo "docker-test: $passed ok, $failed failed, $((SECONDS - started)) s"
[ "$failed" -eq 0 ]
