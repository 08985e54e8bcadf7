#!/usr/bin/env bash
# `bench raft` against `bench etcd` in one window: the same put load, alternating which store goes first each
# round, so that a slow minute on a shared machine hurts both; prints every run and the per-round ratios.
#
#   dotnet build -c Release
#   dotnet run -c Release --no-build --project src/Client -- cluster up &     # wait for "running"
#   tests/Benchmarks/etcd-baseline.sh &                                      # wait for "etcd running"
#   tests/Benchmarks/raft-vs-etcd.sh [OUT_DIR]                               # ROUNDS=3 CLIENTS="16 100" by default
#
# Each run's markdown (command line, figures, replica table) goes to OUT_DIR (default: a new temp directory).
# Not run by CI: it needs etcd-server and a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${1:-$(mktemp -d -t raft-vs-etcd.XXXXXX)}
mkdir -p "$out"
rounds=${ROUNDS:-3}
clients=${CLIENTS:-16 100}
endpoints=${ETCD_ENDPOINTS:-http://127.0.0.1:23790,http://127.0.0.1:23791,http://127.0.0.1:23792}
client=(dotnet run -c Release --no-build --project src/Client --)

ops() { if [ "$1" -le 16 ]; then echo 20000; else echo 30000; fi; }

run() { # store clients round
  local store=$1 c=$2 r=$3 file="$out/$1-$2-$3.md"
  if [ "$store" = etcd ]; then
    "${client[@]}" bench etcd --endpoints "$endpoints" --clients "$c" --ops "$(ops "$c")" --out "$file" >"$file.log" 2>&1
  else
    "${client[@]}" bench raft --clients "$c" --ops "$(ops "$c")" --out "$file" >"$file.log" 2>&1
  fi
  # The figures row: | clients | puts | value | committed | failed | writes/s | p50 | p95 | p99 | max |
  grep -E '^\| [0-9]' "$file" | head -n 1
}

echo "== priming both stores (not measured)"
for c in $clients; do
  "${client[@]}" bench raft --clients "$c" --ops 8000 >/dev/null
  "${client[@]}" bench etcd --endpoints "$endpoints" --clients "$c" --ops 8000 >/dev/null
done

summary="$out/summary.md"
{
  echo "| round | clients | first | raft writes/s | etcd writes/s | raft/etcd | raft p99 ms | etcd p99 ms | raft/etcd p99 |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$summary"
for r in $(seq 1 "$rounds"); do
  for c in $clients; do
    if [ $((r % 2)) -eq 1 ]; then first=etcd; second=raft; else first=raft; second=etcd; fi
    declare -A row
    row[$first]=$(run "$first" "$c" "$r")
    row[$second]=$(run "$second" "$c" "$r")
    echo "round $r, $c clients: raft ${row[raft]}"
    echo "round $r, $c clients: etcd ${row[etcd]}"
    paste -d'|' <(echo "${row[raft]}") <(echo "${row[etcd]}") | awk -F'|' -v r="$r" -v c="$c" -v f="$first" '{
      rw = $7 + 0; rp = $10 + 0; ew = $19 + 0; ep = $22 + 0
      printf "| %d | %d | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |\n", r, c, f, rw, ew, (ew > 0 ? rw / ew : 0), rp, ep, (ep > 0 ? rp / ep : 0)
    }' >>"$summary"
    unset row
  done
done
echo
cat "$summary"
echo "runs and summary in $out"
