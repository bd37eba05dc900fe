#!/usr/bin/env bash
# A real S3-compatible server (Garage, single node) on 127.0.0.1 for tests.
#
#   scripts/garage.sh install          build garage once into $RECTO_CACHE_DIR (default ~/.cache/recto)
#   scripts/garage.sh start DIR        start a server with its data in DIR; prints KEY=VALUE lines
#                                      (RECTO_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY, _SECRET_KEY, _PID)
#   scripts/garage.sh stop DIR         stop the server started in DIR (by its pid)
#   scripts/garage.sh restart DIR      start it again with the same config, keys and data
#
# The tests' shared context calls start/stop; .ci/run calls install.
set -euo pipefail

version=2.5.0
cache=${RECTO_CACHE_DIR:-$HOME/.cache/recto}
root=$cache/garage-$version
bin=$root/bin/garage

have_garage() {
  [[ -x $bin ]] && "$bin" --version 2>/dev/null | grep -q "$version"
}

install() {
  have_garage && return 0
  # One build at a time: tests that start servers in parallel wait for it.
  # The lock lives in a subshell, so no server started later inherits it.
  mkdir -p "$cache"
  (
    flock 9
    have_garage && exit 0
    echo "garage.sh: building garage $version into $root (once; ~7 minutes on 2 cores)" >&2
    mkdir -p "$root"
    cargo install "garage@$version" --locked --no-default-features \
      --features bundled-libs,sqlite --root "$root" --quiet
  ) 9>"$cache/garage-install.lock"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1
  # Never built from a test: `scripts/test.sh` (or `garage.sh install`) does.
  if [[ ! -x $bin ]]; then
    echo "garage.sh: garage $version is not installed; run scripts/garage.sh install" >&2
    exit 1
  fi
  mkdir -p "$dir/meta" "$dir/data"
  local s3_port rpc_port
  s3_port=$(free_port)
  rpc_port=$(free_port)
  local access="GK$(openssl rand -hex 12)"
  local secret
  secret=$(openssl rand -hex 32)
  local bucket=recto-test
  cat >"$dir/garage.toml" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(openssl rand -hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"
TOML
  GARAGE_DEFAULT_ACCESS_KEY=$access GARAGE_DEFAULT_SECRET_KEY=$secret GARAGE_DEFAULT_BUCKET=$bucket \
    RUST_LOG=${GARAGE_LOG:-warn} \
    nohup "$bin" -c "$dir/garage.toml" server --single-node --default-bucket \
    >"$dir/garage.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/garage.pid"
  cat >"$dir/garage.env" <<ENV
access=$access
secret=$secret
bucket=$bucket
s3_port=$s3_port
ENV
  # Ready when the S3 API answers for the bucket (403 to an anonymous request).
  wait_ready "$dir" "$pid" "$s3_port" "$bucket"
  echo "RECTO_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port"
  echo "RECTO_TEST_S3_BUCKET=$bucket"
  echo "RECTO_TEST_S3_ACCESS_KEY=$access"
  echo "RECTO_TEST_S3_SECRET_KEY=$secret"
  echo "RECTO_TEST_S3_REGION=garage"
  echo "RECTO_TEST_S3_PID=$pid"
}

# Start the server of DIR again, with its config, keys and data.
restart() {
  local dir=$1
  # shellcheck disable=SC1091
  source "$dir/garage.env"
  GARAGE_DEFAULT_ACCESS_KEY=$access GARAGE_DEFAULT_SECRET_KEY=$secret GARAGE_DEFAULT_BUCKET=$bucket \
    RUST_LOG=${GARAGE_LOG:-warn} \
    nohup "$bin" -c "$dir/garage.toml" server --single-node --default-bucket \
    >>"$dir/garage.log" 2>&1 </dev/null &
  echo "$!" >"$dir/garage.pid"
  wait_ready "$dir" "$!" "$s3_port" "$bucket"
}

wait_ready() {
  local dir=$1 pid=$2 port=$3 bucket=$4
  for _ in $(seq 1 200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "garage.sh: garage exited; log:" >&2
      cat "$dir/garage.log" >&2
      return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$bucket" || true)
    if [[ $code == 403 || $code == 200 ]]; then
      return 0
    fi
    sleep 0.05
  done
  echo "garage.sh: garage did not answer on port $port" >&2
  return 1
}

stop() {
  local dir=$1
  [[ -f $dir/garage.pid ]] || return 0
  local pid
  pid=$(cat "$dir/garage.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/garage.pid"
}

case ${1:-} in
  install) install ;;
  start) start "${2:?usage: garage.sh start DIR}" ;;
  stop) stop "${2:?usage: garage.sh stop DIR}" ;;
  restart) restart "${2:?usage: garage.sh restart DIR}" ;;
  *) echo "usage: garage.sh install | start DIR | stop DIR | restart DIR" >&2; exit 2 ;;
esac
