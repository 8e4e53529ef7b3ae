#!/usr/bin/env bash
# The throwaway-cluster helper itself: start, config lines, preload, restart keeps data, two clusters side by side,
# clusters started concurrently by separate processes, and the exit trap (normal exit, failure, SIGTERM, RD_KEEP).
# Runs on stock PostgreSQL (pg_stat_statements in place of our library).
set -euo pipefail
export RD_PRELOAD=pg_stat_statements
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

work=$(mktemp -d "${RD_TMPROOT:-/tmp}/rd-selftest.XXXXXX")
rd_on_exit "rm -rf '$work'"

# ---- one cluster
cluster_start "work_mem = '7MB'" "rubberduck.naptime = '200ms'"
tap_like "$PGPORT" '^[0-9]+$' "PGPORT is exported"
tap_ok "socket is in the cluster dir" test -S "$RD_CLUSTER_DIR/.s.PGSQL.$PGPORT"
tap_is "$PGHOST" "$RD_CLUSTER_DIR" "PGHOST is the cluster dir"
tap_is "$PGDATA" "$RD_CLUSTER_DIR/data" "PGDATA is inside the cluster dir"
owner=$(id -un)
[[ $(id -u) -eq 0 ]] && owner=postgres
tap_is "$(stat -c %U "$PGDATA")" "$owner" "data dir owned by the server user"
tap_is "$(cluster_psql -c 'show work_mem')" "7MB" "extra conf lines are applied"
tap_is "$(cluster_psql -c 'show rubberduck.naptime')" "200ms" "custom rubberduck.* lines are accepted"
tap_is "$(cluster_psql -c 'show rubberduck.database')" "postgres" "rubberduck.database defaults to postgres"
tap_is "$(cluster_psql -c 'show shared_preload_libraries')" "pg_stat_statements" "RD_PRELOAD sets the preload"
tap_is "$(cluster_psql -c 'show logging_collector')" "off" "logging collector is off"
tap_ok "server log goes to RD_LOG" cluster_log_has 'database system is ready to accept connections'
tap_is "$(cluster_psql -h 127.0.0.1 -c 'select 1')" "1" "TCP on 127.0.0.1 works"
tap_is "$(cluster_psql -c "select count(*) from pg_settings where name = 'listen_addresses' and setting = '127.0.0.1'")" \
  "1" "listens on 127.0.0.1 only"
cluster_psql -c 'create extension pg_stat_statements' >/dev/null
tap_is "$(cluster_psql -c 'select count(*) > 0 from pg_stat_statements')" "t" "preloaded pg_stat_statements collects"

# ---- wait_for and the log helpers
tap_ok "wait_for returns when the predicate is true" wait_for "select true" 5
t0=$SECONDS
tap_fails "wait_for fails after its timeout" wait_for 'select false' 1 2>/dev/null
tap_cmp $((SECONDS - t0)) -le 5 "wait_for timeout is honoured"
tap_fails "wait_for treats errors as not yet" wait_for 'select * from no_such_table' 1 2>/dev/null
cluster_psql -c "do \$\$ begin raise log 'selftest marker %', 42; end \$\$" >/dev/null
tap_ok "cluster_log_wait sees a fresh log line" cluster_log_wait 'selftest marker 42' 5
tap_fails "cluster_log_has is false for absent text" cluster_log_has 'no such line in this log'

# ---- restart keeps data, and config lines given to cluster_restart apply
cluster_psql -c "create table t(x int); insert into t select generate_series(1, 100)" >/dev/null
started=$(cluster_psql -c 'select pg_postmaster_start_time()')
cluster_restart "work_mem = '9MB'"
tap_ok "restart restarted the server" test "$(cluster_psql -c 'select pg_postmaster_start_time()')" != "$started"
tap_is "$(cluster_psql -c 'select sum(x) from t')" "5050" "restart keeps data"
tap_is "$(cluster_psql -c 'show work_mem')" "9MB" "cluster_restart applies new conf lines"
cluster_conf "work_mem = '11MB'"
cluster_reload
tap_ok "cluster_conf + cluster_reload apply a SIGHUP setting" wait_for "select current_setting('work_mem') = '11MB'" 10
cluster_stop fast
tap_ok "cluster_stop stops the server" test ! -f "$PGDATA/postmaster.pid"
cluster_restart
tap_is "$(cluster_psql -c 'select count(*) from t')" "100" "a stopped cluster starts again with its data"

# ---- pgbench
out=$(pgbench_run -i -s 1 -q 2>&1)
tap_like "$out" 'done in' "pgbench_run initialises"
out=$(pgbench_run -S -T 1 -c 1 2>&1)
tap_like "$out" 'tps = [0-9.]+' "pgbench_run runs a workload"

# ---- a second cluster beside the first
a_dir=$RD_CLUSTER_DIR a_port=$PGPORT
cluster_start
b_dir=$RD_CLUSTER_DIR b_port=$PGPORT
tap_ok "second cluster gets another port" test "$a_port" != "$b_port"
tap_ok "second cluster gets another dir" test "$a_dir" != "$b_dir"
tap_is "$(cluster_psql -c "select count(*) from pg_class where relname = 't'")" "0" "second cluster is fresh"
cluster_use "$a_dir"
tap_is "$PGPORT:$(cluster_psql -c 'select count(*) from t')" "$a_port:100" "cluster_use switches back to the first"
cluster_use "$b_dir"

# ---- clusters started at the same time by separate processes, and their exit traps
# A child script: starts a cluster, records "dir port answer" in $2, then does $3 (fail / sleep / nothing).
# shellcheck disable=SC2016  # expanded by the child shell
child_script='set -euo pipefail; source "$1/../lib/cluster.sh"; cluster_start
  echo "$RD_CLUSTER_DIR $PGPORT $(cluster_psql -c "select 1")" > "$2"
  case "$3" in fail) false ;; sleep) touch "$2.ready"; sleep 60 ;; esac'
child() { bash -c "$child_script" child "$here" "$work/$1" "${2:-}"; }
for i in 1 2 3; do child "par$i" & done
wait
read -r d1 p1 r1 <"$work/par1"
read -r d2 p2 r2 <"$work/par2"
read -r d3 p3 r3 <"$work/par3"
tap_is "$r1$r2$r3" "111" "three clusters started concurrently all answer"
tap_is "$(printf '%s\n' "$p1" "$p2" "$p3" "$a_port" "$b_port" | sort -u | wc -l)" "5" "all five clusters got distinct ports"
tap_ok "exit trap removed the concurrent clusters' dirs" test ! -e "$d1" -a ! -e "$d2" -a ! -e "$d3"

rc=0
child fail fail 2>/dev/null || rc=$?
read -r df _ _ <"$work/fail"
tap_is "$rc" "1" "a failing script keeps its exit status through the trap"
tap_ok "exit trap removes the dir after a failure" test ! -e "$df"

rc=0
timeout 20 bash -c "$child_script" child "$here" "$work/sleep" sleep 2>/dev/null &
tpid=$!
for _ in $(seq 100); do [[ -e $work/sleep.ready ]] && break; sleep 0.1; done
read -r ds ps _ <"$work/sleep"
kill -TERM "$tpid" 2>/dev/null || true
wait "$tpid" || rc=$?
tap_ok "SIGTERM (as from timeout) ends the script" test "$rc" -ne 0
tap_ok "exit trap removes the dir after SIGTERM" test ! -e "$ds"
tap_fails "exit trap stopped the server after SIGTERM" bash -c "exec 3<>/dev/tcp/127.0.0.1/$ps" 2>/dev/null

RD_KEEP=1 child keep 2>/dev/null
read -r dk _ _ <"$work/keep"
tap_ok "RD_KEEP=1 keeps the dir" test -d "$dk/data"
tap_ok "RD_KEEP=1 still stops the server" test ! -f "$dk/data/postmaster.pid"
rm -rf "$dk"

tap_done
