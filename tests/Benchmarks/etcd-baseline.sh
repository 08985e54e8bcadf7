#!/usr/bin/env bash
# A 3-member etcd cluster on loopback: the baseline `bench etcd` measures against, so that `bench raft` figures
# can be read as ratios. Not run by CI.
#
#   tests/Benchmarks/etcd-baseline.sh            # start, wait until healthy, keep running until Ctrl-C
#   tests/Benchmarks/etcd-baseline.sh -- CMD...  # start, run CMD (e.g. a bench etcd), then stop
#
# Fsync is left at etcd's default (every WAL append is synced, as the Raft store does); --unsafe-no-fsync is
# deliberately not passed, or the comparison would be against a store that does not persist.
# Members listen on ETCD_BASE_PORT+{0,1,2} (clients) and +{10,11,12} (peers); data lives in a temp dir that is
# removed on exit. Needs etcd and etcdctl 3.4 on PATH (Debian: apt-get install etcd-server etcd-client).
set -euo pipefail

base=${ETCD_BASE_PORT:-23790}
dir=$(mktemp -d -t etcd-baseline.XXXXXX)
pids=()

stop() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

cluster=""
endpoints=""
for i in 0 1 2; do
  cluster+="${cluster:+,}etcd-$i=http://127.0.0.1:$((base + 10 + i))"
  endpoints+="${endpoints:+,}http://127.0.0.1:$((base + i))"
done

for i in 0 1 2; do
  etcd --name "etcd-$i" \
    --data-dir "$dir/etcd-$i" \
    --listen-client-urls "http://127.0.0.1:$((base + i))" \
    --advertise-client-urls "http://127.0.0.1:$((base + i))" \
    --listen-peer-urls "http://127.0.0.1:$((base + 10 + i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((base + 10 + i))" \
    --initial-cluster "$cluster" \
    --initial-cluster-token etcd-baseline \
    --initial-cluster-state new \
    >"$dir/etcd-$i.log" 2>&1 &
  pids+=($!)
done

export ETCDCTL_API=3
healthy=""
for _ in $(seq 1 60); do
  if etcdctl --endpoints "$endpoints" --command-timeout=2s endpoint health >/dev/null 2>&1; then
    healthy=yes
    break
  fi
  sleep 0.5
done
if [[ -z $healthy ]]; then
  echo "etcd did not become healthy within 30 s; last log lines:" >&2
  tail -n 5 "$dir"/etcd-*.log >&2
  exit 1
fi

# The first member leads, as `raft transfer --to silo-1` makes the first silo lead: with one client, `bench kv` sends
# every request to the first endpoint of each system, and a member that does not lead forwards each one to the leader.
field() { etcdctl --endpoints "$1" endpoint status --write-out=fields | sed -n "s/^\"$2\" : //p" | head -n 1; }
first="http://127.0.0.1:$base"
first_id=$(field "$first" MemberID)
for _ in $(seq 1 10); do
  leader_id=$(field "$first" Leader)
  [[ $leader_id == "$first_id" ]] && break
  for i in 1 2; do
    member="http://127.0.0.1:$((base + i))"
    if [[ $(field "$member" MemberID) == "$leader_id" ]]; then
      etcdctl --endpoints "$member" move-leader "$(printf '%x' "$first_id")" >/dev/null || true
    fi
  done
  sleep 0.5
done

etcdctl --endpoints "$endpoints" endpoint status --write-out=table
echo "etcd running: --endpoints $endpoints (etcd-0 leads: $([[ $(field "$first" Leader) == "$first_id" ]] && echo yes || echo no))"

if [[ ${1:-} == "--" ]]; then
  shift
  "$@"
else
  echo "Ctrl-C to stop and remove the data."
  while true; do sleep 3600 & wait $!; done
fi
