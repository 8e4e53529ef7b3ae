#!/usr/bin/env bash
# Hook overhead benchmark (DESIGN.md §7: with rubberduck_agents, pgbench TPS within 3% of pg_stat_statements alone).
#
# One throwaway sandbox cluster per configuration, each initialised once with identical pgbench data. Only one
# cluster runs at a time: every round starts each configuration's cluster in turn (order rotated round by round, so
# no configuration always goes first), warms it up, then measures select-only (-S) and tpcb-like for T seconds each,
# and stops it. Per run we record TPS and the server's CPU time per transaction (utime+stime of the postmaster and
# all its children — backends, background workers, our agents — from /proc, before/after). The summary shows
# medians per configuration and the median of the paired per-round ratios against the baseline configuration.
#
# usage: bench/overhead.sh [-r ROUNDS] [-T SECONDS] [-c CLIENTS] [-j THREADS] [-s SCALE] [-w WARMUP_S]
#                          [-b BASELINE] [-o OUTDIR] [CONFIG...]
#   CONFIG = PRELOAD[;conf line[;conf line...]], PRELOAD 'none' for no library, e.g.
#            'pg_stat_statements,rubberduck_agents;rubberduck.sample_rate = 1'
#   defaults: -r 5 -T 20 -c 2 -j CLIENTS -s 10 -w 5 -b pg_stat_statements -o bench/results,
#             configs: none  pg_stat_statements  pg_stat_statements,rubberduck_agents
# Every library of a configuration that is also an extension is CREATEd in the benchmark database.
# Raw results: OUTDIR/overhead-<stamp>.tsv, summary: OUTDIR/overhead-<stamp>.md (also printed).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=tests/lib/cluster.sh
source tests/lib/cluster.sh
# shellcheck source=bench/lib/bench.sh
source bench/lib/bench.sh

rounds=5 secs=20 clients=2 threads='' scale=10 warmup=5 baseline=pg_stat_statements outdir=$repo/bench/results
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while getopts 'r:T:c:j:s:w:b:o:h' opt; do
  case $opt in
  r) rounds=$OPTARG ;;
  T) secs=$OPTARG ;;
  c) clients=$OPTARG ;;
  j) threads=$OPTARG ;;
  s) scale=$OPTARG ;;
  w) warmup=$OPTARG ;;
  b) baseline=$OPTARG ;;
  o) outdir=$OPTARG ;;
  h) usage 0 ;;
  *) usage 2 >&2 ;;
  esac
done
shift $((OPTIND - 1))
threads=${threads:-$clients}
configs=("$@")
[[ ${#configs[@]} -gt 0 ]] || configs=(none pg_stat_statements 'pg_stat_statements,rubberduck_agents')
for v in "$rounds" "$secs" "$clients" "$threads" "$scale"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "not a positive integer: $v" >&2; exit 2; }
done
[[ $warmup =~ ^[0-9]+$ ]] || { echo "not an integer: $warmup" >&2; exit 2; }
have_baseline=
for c in "${configs[@]}"; do [[ $c == "$baseline" ]] && have_baseline=1; done
[[ -n $have_baseline ]] || echo "# baseline '$baseline' is not among the configurations: no ratios" >&2

mkdir -p "$outdir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw=$outdir/overhead-$stamp.tsv
summary=$outdir/overhead-$stamp.md
hz=$(getconf CLK_TCK)
workloads=(select-only tpcb-like)
declare -A wl_args=([select-only]="-S" [tpcb-like]="-b tpcb-like")

# Settings that keep runs comparable: no checkpoint inside a run, data set in shared buffers, fsync off (we measure
# CPU overhead of hooks, not the disk).
bench_conf=("shared_buffers = '512MB'" "checkpoint_timeout = '30min'" "max_wal_size = '8GB'"
  "max_connections = $((clients + 20))")

declare -A dir_of
echo "# initialising ${#configs[@]} cluster(s), pgbench scale $scale"
for cfg in "${configs[@]}"; do
  IFS=';' read -r -a parts <<<"$cfg"
  preload=${parts[0]}
  extra=("${parts[@]:1}")
  RD_PRELOAD=$preload cluster_start "${bench_conf[@]}" "${extra[@]}"
  dir_of[$cfg]=$RD_CLUSTER_DIR
  pgbench_run -i -q -s "$scale" >"$RD_CLUSTER_DIR/pgbench-init.log" 2>&1 ||
    { cat "$RD_CLUSTER_DIR/pgbench-init.log" >&2; exit 1; }
  if [[ $preload != none ]]; then
    IFS=',' read -r -a libs <<<"$preload"
    for lib in "${libs[@]}"; do
      lib=${lib// /}
      if [[ $(cluster_psql -c "select count(*) from pg_available_extensions where name = '$lib'") == 1 ]]; then
        cluster_psql -q -c "create extension if not exists \"$lib\""
      fi
    done
  fi
  cluster_stop fast
  echo "#   $cfg: $RD_CLUSTER_DIR"
done

printf 'round\tposition\tconfig\tworkload\tseconds\tclients\ttps\ttransactions\tcpu_s\tcpu_us_per_tx\n' >"$raw"
n=${#configs[@]}
for ((r = 1; r <= rounds; r++)); do
  for ((k = 0; k < n; k++)); do
    cfg=${configs[(k + r - 1) % n]}
    cluster_use "${dir_of[$cfg]}"
    # shellcheck disable=SC2119  # no extra conf lines
    cluster_restart
    if ((warmup > 0)); then pgbench_run -n -S -T "$warmup" -c "$clients" -j "$threads" >/dev/null 2>&1; fi
    for wl in "${workloads[@]}"; do
      # What pgbench's own pre-run vacuum does, but outside the measured interval.
      cluster_psql -q -c 'vacuum pgbench_branches' -c 'vacuum pgbench_tellers' -c 'truncate pgbench_history' \
        -c 'checkpoint'
      pm=$(head -n1 "$PGDATA/postmaster.pid")
      out=$RD_CLUSTER_DIR/pgbench-$r-$wl.log
      c0=$(bench_cpu_ticks "$pm")
      # shellcheck disable=SC2086  # wl_args holds several words
      pgbench_run -n ${wl_args[$wl]} -T "$secs" -c "$clients" -j "$threads" >"$out" 2>&1 ||
        { cat "$out" >&2; exit 1; }
      c1=$(bench_cpu_ticks "$pm")
      read -r tps tx < <(bench_pgbench_result "$out") || { cat "$out" >&2; exit 1; }
      cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
      per=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v tx="$tx" 'BEGIN { printf "%.2f", tx ? t / hz / tx * 1e6 : 0 }')
      printf '%d\t%d\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\n' "$r" "$((k + 1))" "$cfg" "$wl" "$secs" "$clients" "$tps" "$tx" \
        "$cpu" "$per" >>"$raw"
      printf '# round %d/%d  %-45s %-12s tps %10.1f  cpu/tx %8.1f us\n' "$r" "$rounds" "$cfg" "$wl" "$tps" "$per"
    done
    cluster_stop fast
  done
done

# column N of the raw rows for (config, workload), in round order
col() { awk -F'\t' -v c="$1" -v w="$2" -v k="$3" 'NR > 1 && $3 == c && $4 == w { print $1 "\t" $k }' "$raw" |
  sort -n | cut -f2; }
# median over rounds of col(cfg)/col(baseline), paired by round
paired() { paste <(col "$1" "$2" "$3") <(col "$baseline" "$2" "$3") | awk '$2 > 0 { print $1 / $2 }' | bench_median; }
pct() { awk -v x="$1" 'BEGIN { if (x == "") print "–"; else printf "%.3f (%+.1f%%)", x, (x - 1) * 100 }'; }

{
  echo "## Hook overhead — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "PostgreSQL: $("$RD_PGBIN/postgres" --version); host: $(nproc) CPU(s), $(uname -sr)."
  echo "pgbench scale $scale, $clients client(s), $threads thread(s), ${secs}s per run after a ${warmup}s warm-up, \
$rounds round(s), configuration order rotated per round; ${bench_conf[*]}; fsync off."
  echo "Ratios are medians of per-round ratios against \`$baseline\` (TPS: higher is better; CPU/tx: lower is better)."
  echo
  echo "| configuration | workload | TPS median | TPS min–max | TPS vs baseline | server CPU µs/tx | CPU/tx vs baseline |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for wl in "${workloads[@]}"; do
    for cfg in "${configs[@]}"; do
      tps_med=$(col "$cfg" "$wl" 7 | bench_median)
      read -r lo hi < <(col "$cfg" "$wl" 7 | bench_min_max)
      cpu_med=$(col "$cfg" "$wl" 10 | bench_median)
      rt='' rc=''
      if [[ -n $have_baseline ]]; then
        rt=$(paired "$cfg" "$wl" 7)
        rc=$(paired "$cfg" "$wl" 10)
      fi
      # shellcheck disable=SC2016  # backticks are markdown
      printf '| `%s` | %s | %.1f | %.1f–%.1f | %s | %.1f | %s |\n' "$cfg" "$wl" "$tps_med" "$lo" "$hi" \
        "$(pct "$rt")" "$cpu_med" "$(pct "$rc")"
    done
  done
  echo
  echo "Raw results: \`${raw#"$repo"/}\`."
} >"$summary"
echo
cat "$summary"
