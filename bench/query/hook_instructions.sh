#!/usr/bin/env bash
# Instructions per statement of the collection hooks (quick check; bench/instructions.sh is the full comparison).
# A sandbox cluster is initialised with pgbench data (scale 1) and stopped; then, per configuration, the server runs
# in single-user mode (`postgres --single`: shared_preload_libraries and their hooks, no background workers) under
# callgrind, fed N pgbench-style primary-key selects and an empty script; instructions per statement =
# (total(selects) - total(empty)) / N. Our state file is removed before every run so that its load and save cost
# the same in both runs.
# usage: bench/query/hook_instructions.sh [N]   (default 2000; needs valgrind and `make sandbox`)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/lib/cluster.sh
source tests/lib/cluster.sh
n=${1:-2000}
RD_PRELOAD=pg_stat_statements cluster_start
pgbench_run -i -s 1 postgres >/dev/null 2>&1
cluster_stop
w=$RD_CLUSTER_DIR
for i in $(seq 1 "$n"); do echo "SELECT abalance FROM pgbench_accounts WHERE aid = $(((i * 7919) % 100000 + 1));"; done >"$w/sel.sql"
: >"$w/empty.sql"
chmod a+r "$w"/*.sql
run() { # PRELOAD EXTRA_CONF_LINE SCRIPT -> instructions
  sed -i "/^shared_preload_libraries/d; /^rubberduck.sample_rate/d" "$PGDATA/postgresql.conf"
  echo "shared_preload_libraries = '$1'" >>"$PGDATA/postgresql.conf"
  if [[ -n $2 ]]; then echo "$2" >>"$PGDATA/postgresql.conf"; fi
  rm -f "$PGDATA"/pg_stat/rubberduck_agents*.state
  rd_as_pg valgrind --tool=callgrind --callgrind-out-file=/dev/null "$RD_PGBIN/postgres" --single -D "$PGDATA" \
    postgres <"$3" 2>&1 >/dev/null | sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
}
printf '| configuration | instructions/statement |\n|---|---:|\n'
for cfg in "pg_stat_statements|" "pg_stat_statements,rubberduck_agents|" \
  "pg_stat_statements,rubberduck_agents|rubberduck.sample_rate = 1" "rubberduck_agents|"; do
  p=${cfg%%|*} x=${cfg#*|}
  e=$(run "$p" "$x" "$w/empty.sql")
  s=$(run "$p" "$x" "$w/sel.sql")
  printf '| `%s`%s | %d |\n' "$p" "${x:+ ($x)}" $(((s - e) / n))
done
