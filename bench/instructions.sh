#!/usr/bin/env bash
# Hook overhead in CPU instructions per statement — deterministic, unlike TPS on this shared machine (issue #3).
#
# Method: the server runs in single-user mode (`postgres --single`: loads shared_preload_libraries and runs their
# _PG_init, shmem hooks and planner/executor hooks, starts no background worker) under
# `valgrind --tool=callgrind`, fed a fixed script on stdin, one statement per line:
#   select  N_SELECT pgbench-style selects `SELECT abalance FROM pgbench_accounts WHERE aid = <n>` (varying n)
#   tpcb    N_TPCB tpcb-like transactions (BEGIN; UPDATE accounts; SELECT; UPDATE tellers; UPDATE branches;
#           INSERT history; END), 7 statements each
#   empty   no statement at all (start-up, shut-down and the shut-down checkpoint)
# instructions per statement = (Ir of the script - Ir of the empty script) / statements, per configuration (so
# each library's own start-up and shut-down cost cancels out). Every run starts from a fresh copy of the same
# pgbench data directory (scale 1, made once with `pgbench -i` on a throwaway sandbox cluster), so the runs are
# repeatable to about 0.01 %.
#
# usage: bench/instructions.sh [-n N_SELECT] [-t N_TPCB] [-o OUTDIR] [-k] [CONFIG...]
#   CONFIG = NAME|PRELOAD[;conf line[;conf line...]] (PRELOAD 'none' for no library); default configurations:
#     none, pg_stat_statements, +rubberduck_agents (defaults), +rubberduck_agents sample_rate=1,
#     +pg_qualstats sample_rate=1, +auto_explain (log_min_duration = 0, plans logged to /dev/null)
#   -k  skip auto_explain in the default set
#   defaults: -n 2000 -t 500 -o bench/results
# Needs valgrind and the sandbox (make sandbox). pg_qualstats comes from Debian's postgresql-15-pg-qualstats:
# installed with apt-get when missing and copied into the sandbox when the sandbox lacks it.
# Prints a markdown table (also written to OUTDIR/instructions-<stamp>.md) and checks the issue's budgets:
# rubberduck_agents at defaults within 1.03x of pg_stat_statements alone, at sample_rate = 1 within 1.10x.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=tests/lib/cluster.sh
source tests/lib/cluster.sh

n_select=2000 n_tpcb=500 outdir=$repo/bench/results skip_ae=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while getopts 'n:t:o:kh' opt; do
  case $opt in
  n) n_select=$OPTARG ;;
  t) n_tpcb=$OPTARG ;;
  o) outdir=$OPTARG ;;
  k) skip_ae=1 ;;
  h) usage 0 ;;
  *) usage 2 >&2 ;;
  esac
done
shift $((OPTIND - 1))
for v in "$n_select" "$n_tpcb"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "not a positive integer: $v" >&2; exit 2; }
done
configs=("$@")
if [[ ${#configs[@]} -eq 0 ]]; then
  configs=(
    'none|none'
    'pg_stat_statements|pg_stat_statements'
    'pgss+rubberduck_agents|pg_stat_statements,rubberduck_agents'
    'pgss+rubberduck_agents sample_rate=1|pg_stat_statements,rubberduck_agents;rubberduck.sample_rate=1'
    'pgss+pg_qualstats sample_rate=1|pg_stat_statements,pg_qualstats;pg_qualstats.sample_rate=1'
  )
  [[ $skip_ae == 1 ]] || configs+=('pgss+auto_explain|pg_stat_statements,auto_explain;auto_explain.log_min_duration=0')
fi
pgbin=${RD_PGBIN:-$repo/tmp/pg/usr/lib/postgresql/15/bin}
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[[ -x $pgbin/postgres ]] || { echo "no sandbox at $pgbin (run 'make sandbox')" >&2; exit 1; }

# pg_qualstats: Debian package, then into the sandbox.
needs_qualstats=0
for c in "${configs[@]}"; do [[ $c == *pg_qualstats* ]] && needs_qualstats=1; done
if [[ $needs_qualstats == 1 ]]; then
  syslib=$(pg_config --pkglibdir)
  sysext=$(pg_config --sharedir)/extension
  if [[ ! -f $syslib/pg_qualstats.so ]]; then
    echo "# installing postgresql-15-pg-qualstats"
    apt-get install -y -qq postgresql-15-pg-qualstats >/dev/null
  fi
  sblib=$pgbin/../lib
  sbext=$pgbin/../../../../share/postgresql/15/extension
  if [[ ! -f $sblib/pg_qualstats.so ]]; then
    echo "# copying pg_qualstats into the sandbox"
    cp "$syslib/pg_qualstats.so" "$sblib/"
    cp "$sysext"/pg_qualstats* "$sbext/"
  fi
fi

mkdir -p "$outdir"
stamp=$(date +%Y%m%d-%H%M%S)
work=$(mktemp -d "${TMPDIR:-/tmp}/rd-instr.XXXXXX")
rd_on_exit "rm -rf '$work'"

# ---- the data directory: pgbench -i on a throwaway cluster, then stopped and copied -----------------------
echo "# creating the pgbench data (scale 1)"
RD_PRELOAD=none cluster_start >/dev/null
pgbench_run -i -q -s 1 postgres >/dev/null 2>&1
cluster_psql -c 'VACUUM ANALYZE' >/dev/null
cluster_stop
cp -a "$PGDATA" "$work/data0"
# the data dir's own postgresql.conf is the cluster's; single-user runs get their settings with -c
if [[ $(id -u) -eq 0 ]]; then chown -R "${RD_OS_USER:-postgres}:" "$work"; fi

# ---- the scripts ----------------------------------------------------------------------------------------
: >"$work/empty.sql"
for ((i = 0; i < n_select; i++)); do
  echo "SELECT abalance FROM pgbench_accounts WHERE aid = $(((i * 7919) % 100000 + 1));"
done >"$work/select.sql"
for ((i = 0; i < n_tpcb; i++)); do
  aid=$(((i * 7919) % 100000 + 1)) tid=$((i % 10 + 1)) delta=$(((i * 37) % 10001 - 5000))
  echo "BEGIN;"
  echo "UPDATE pgbench_accounts SET abalance = abalance + $delta WHERE aid = $aid;"
  echo "SELECT abalance FROM pgbench_accounts WHERE aid = $aid;"
  echo "UPDATE pgbench_tellers SET tbalance = tbalance + $delta WHERE tid = $tid;"
  echo "UPDATE pgbench_branches SET bbalance = bbalance + $delta WHERE bid = 1;"
  echo "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($tid, 1, $aid, $delta, CURRENT_TIMESTAMP);"
  echo "END;"
done >"$work/tpcb.sql"
n_tpcb_stmts=$((n_tpcb * 7))
chmod a+r "$work"/*.sql

# ---- one callgrind run: prints the total instruction count (Ir) --------------------------------------------
run_one() { # preload conf_lines script
  local preload=$1 conf=$2 script=$3 data=$work/data-run out=$work/callgrind.out
  rm -rf "$data" "$out"
  cp -a "$work/data0" "$data"
  local args=(--single -D "$data" -c fsync=off -c "shared_preload_libraries=${preload/#none/}")
  local line
  IFS=';' read -r -a lines <<<"$conf"
  for line in "${lines[@]}"; do [[ -n $line ]] && args+=(-c "$line"); done
  args+=(postgres)
  if ! (cd "$work" && rd_as_pg valgrind --tool=callgrind --callgrind-out-file="$out" "$pgbin/postgres" "${args[@]}" \
    <"$work/$script" >"$work/run.log" 2>&1); then
    echo "run failed: $preload $conf $script" >&2
    tail -n 20 "$work/run.log" >&2
    exit 1
  fi
  if grep -q 'ERROR:' "$work/run.log"; then
    echo "statement errors in run: $preload $conf $script" >&2
    grep -m5 'ERROR:' "$work/run.log" >&2
    exit 1
  fi
  sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -n 1 | awk '{print $1}'
}

declare -A sel tp
names=()
for c in "${configs[@]}"; do
  name=${c%%|*}
  rest=${c#*|}
  preload=${rest%%;*}
  conf=''
  [[ $rest == *';'* ]] && conf=${rest#*;}
  names+=("$name")
  t0=$(date +%s)
  e=$(run_one "$preload" "$conf" empty.sql)
  s=$(run_one "$preload" "$conf" select.sql)
  t=$(run_one "$preload" "$conf" tpcb.sql)
  sel[$name]=$(awk -v a="$s" -v b="$e" -v n="$n_select" 'BEGIN{printf "%.1f", (a-b)/n}')
  tp[$name]=$(awk -v a="$t" -v b="$e" -v n="$n_tpcb_stmts" 'BEGIN{printf "%.1f", (a-b)/n}')
  echo "# $name: empty $e, select $s, tpcb $t Ir -> ${sel[$name]} / ${tp[$name]} instr/stmt ($(($(date +%s) - t0)) s)"
done

# ---- table -------------------------------------------------------------------------------------------------
base=${names[0]}
ref=pg_stat_statements
[[ -n ${sel[$ref]:-} ]] || ref=$base
md=$outdir/instructions-$stamp.md
{
  echo "Instructions per statement (callgrind Ir, postgres --single, PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'); select: $n_select pgbench selects; tpcb: $n_tpcb tpcb-like transactions = $n_tpcb_stmts statements)"
  echo
  echo "| configuration | select instr/stmt | delta vs $base | ratio vs $ref | tpcb instr/stmt | delta vs $base | ratio vs $ref |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for n in "${names[@]}"; do
    awk -v n="$n" -v s="${sel[$n]}" -v sb="${sel[$base]}" -v sr="${sel[$ref]}" \
      -v t="${tp[$n]}" -v tb="${tp[$base]}" -v tr="${tp[$ref]}" \
      'BEGIN{printf "| %s | %.1fk | %+.1fk | %.3fx | %.1fk | %+.1fk | %.3fx |\n", n, s/1000, (s-sb)/1000, s/sr, t/1000, (t-tb)/1000, t/tr}'
  done
} | tee "$md"

# ---- budgets (issue #3) --------------------------------------------------------------------------------------
status=0
budget() { # config label limit
  local n=$1 limit=$3
  [[ -n ${sel[$n]:-} && -n ${sel[$ref]:-} && $ref == pg_stat_statements ]] || return 0
  for kind in select tpcb; do
    local v r
    if [[ $kind == select ]]; then v=${sel[$n]} r=${sel[$ref]}; else v=${tp[$n]} r=${tp[$ref]}; fi
    if awk -v v="$v" -v r="$r" -v l="$limit" 'BEGIN{exit !(v/r <= l)}'; then
      echo "ok - $2 $kind: $(awk -v v="$v" -v r="$r" 'BEGIN{printf "%.3f", v/r}')x pg_stat_statements (budget ${limit}x)" | tee -a "$md"
    else
      echo "not ok - $2 $kind: $(awk -v v="$v" -v r="$r" 'BEGIN{printf "%.3f", v/r}')x pg_stat_statements (budget ${limit}x)" | tee -a "$md"
      status=1
    fi
  done
}
echo | tee -a "$md" >/dev/null
budget 'pgss+rubberduck_agents' 'rubberduck_agents at defaults' 1.03
budget 'pgss+rubberduck_agents sample_rate=1' 'rubberduck_agents at sample_rate = 1' 1.10
echo "# written to $md"
exit $status
