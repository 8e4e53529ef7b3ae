#!/usr/bin/env bash
# Index advisor comparison on a realistic application workload (issue 4, DESIGN.md §7).
#
# One throwaway cluster (sandbox build, pg_stat_statements + pg_qualstats + rubberduck_agents preloaded):
#   1. schema.sql loads a SaaS shop (accounts, users, sessions, products, orders, order_items, events, jobs;
#      ROWS orders, ~4.6 × ROWS rows in all) into database `tmpl`, primary keys only; VACUUM ANALYZE.
#   2. `bench` = a copy of tmpl. pgbench runs the weighted workload (workload/*.sql, weight in each file's
#      header, pgbench -M prepared -f file@weight) against it for DURATION s with CLIENTS clients, while the
#      data_persistence agent and pg_qualstats (sample rate 1) watch. Time to first advice is measured from the
#      workload's start; then the agent is woken until its advice is stable. The skill's worker time per advice
#      computation is read from its note in rubberduck.skills.
#   3. Four copies of tmpl, one per configuration: (a) none = primary keys only, (b) advised = exactly the DDL
#      of rubberduck.index_advice, (c) expert = expert.sql, (d) qualstats = pg_qualstats_index_advisor()'s
#      DDL (default arguments).
#   4. Each template once with representative parameters (each \set variable at the middle of its range), in a
#      transaction that is rolled back: EXPLAIN (ANALYZE, BUFFERS, TIMING OFF). Weighted planner cost
#      (Σ weight × total cost) and weighted buffers (Σ weight × shared hit+read) come from one round (they are
#      deterministic for a given set of statistics, shared by all four copies); measured time is
#      Σ weight × median execution time over ROUNDS rounds that alternate the configurations.
# Prints a markdown table (also written to bench/results/index_advisor-<date>.md).
#   ROWS=600000 DURATION=45 CLIENTS=2 ROUNDS=5 bench/index_advisor/advisor_compare.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=${ROWS:-600000}
duration=${DURATION:-45}
clients=${CLIENTS:-2}
rounds=${ROUNDS:-5}
# Directives of the agent for this run (documented in docs/performance.md with the results).
max_indexes=${MAX_INDEXES:-20}

if [[ ! -f /usr/share/postgresql/15/extension/pg_qualstats.control ]]; then
  apt-get install -y postgresql-15-pg-qualstats >/dev/null
fi
if [[ ! -f $root/tmp/pg/usr/share/postgresql/15/extension/pg_qualstats.control ]]; then
  echo "the sandbox has no pg_qualstats: rerun 'make sandbox' (it copies the server tree)" >&2
  exit 1
fi

export RD_PRELOAD=${RD_PRELOAD:-pg_stat_statements,pg_qualstats,rubberduck_agents}
# shellcheck source=tests/lib/cluster.sh
source "$root/tests/lib/cluster.sh"
# shellcheck source=bench/lib/bench.sh
source "$root/bench/lib/bench.sh"

work=$(mktemp -d "${RD_TMPROOT:-/tmp}/rd-advisor.XXXXXX")
rd_on_exit "rm -rf '$work'"
chmod 755 "$work"
mkdir -p "$root/bench/results"
out="$root/bench/results/index_advisor-$(date +%Y%m%d-%H%M%S).md"
log() { echo "# $(date +%H:%M:%S) $*" >&2; }

cluster_start "shared_buffers = '512MB'" "maintenance_work_mem = '256MB'" "max_parallel_workers_per_gather = 0" \
  "max_parallel_maintenance_workers = 0" "jit = off" "synchronous_commit = off" \
  "pg_qualstats.sample_rate = 1" "rubberduck.indexing_max_indexes = $max_indexes" \
  "rubberduck.migration_guard = off"

# ---- 1. data ------------------------------------------------------------------------------------------------
users=$((rows / 6 > 1000 ? rows / 6 : 1000))
accounts=$((rows / 60 > 100 ? rows / 60 : 100))
products=$((rows / 30 > 1000 ? rows / 30 : 1000))
log "loading $rows orders (~$((rows * 46 / 10)) rows in all)"
t0=$(date +%s)
cluster_psql -c 'CREATE DATABASE tmpl' >/dev/null
cluster_psql -d tmpl -c 'CREATE EXTENSION pg_trgm' >/dev/null
cluster_psql -d tmpl -v rows="$rows" <"$here/schema.sql" >/dev/null
cluster_psql -d tmpl >/dev/null <<'SQL'
-- One template with representative parameters: plan cost, buffers touched, execution time (rolled back by
-- the caller).
CREATE FUNCTION bench_explain(q text, OUT cost float8, OUT buffers bigint, OUT ms float8) LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) ' || q INTO j;
    cost := (j -> 0 -> 'Plan' ->> 'Total Cost')::float8;
    buffers := (j -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint + (j -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
    ms := (j -> 0 ->> 'Execution Time')::float8;
END $$;
SQL
load_s=$(($(date +%s) - t0))
data_bytes=$(cluster_psql -d tmpl -c 'SELECT pg_database_size(current_database())')
log "loaded in ${load_s}s ($((data_bytes / 1048576)) MB)"
clone() { cluster_psql -c "CREATE DATABASE $1 TEMPLATE tmpl STRATEGY FILE_COPY" >/dev/null; }
clone bench
cluster_restart "rubberduck.database = 'bench'"
cluster_psql -d bench -c 'CREATE EXTENSION rubberduck_agents; CREATE EXTENSION pg_qualstats' >/dev/null
cluster_psql -d bench -c 'SELECT pg_stat_reset(), pg_qualstats_reset()' >/dev/null

# ---- 2. workload under observation --------------------------------------------------------------------------
mkdir -p "$work/wl"
fargs=()
names=()
weights=()
for f in "$here"/workload/*.sql; do
  name=$(basename "$f" .sql)
  weight=$(sed -nE 's/^-- weight: ([0-9]+).*/\1/p' "$f")
  sed -e "s/@ROWS@/$rows/g" -e "s/@USERS@/$users/g" -e "s/@ACCOUNTS@/$accounts/g" -e "s/@PRODUCTS@/$products/g" \
    -e "s/@JOBS@/$users/g" "$f" >"$work/wl/$name.sql"
  names+=("$name")
  weights+=("$weight")
done
chmod -R a+rX "$work"
for i in "${!names[@]}"; do fargs+=(-f "$work/wl/${names[$i]}.sql@${weights[$i]}"); done
log "workload: ${#names[@]} templates, $duration s, $clients clients"

note_file=$work/notes.txt
: >"$note_file"
wstart=$(date +%s.%N)
pgbench_run -n -M prepared -c "$clients" -j "$clients" -T "$duration" --random-seed=42 "${fargs[@]}" bench \
  >"$work/pgbench.txt" 2>&1 &
pgb=$!
first_advice=""
while kill -0 "$pgb" 2>/dev/null; do
  if [[ -z $first_advice ]] &&
    [[ $(cluster_psql -d bench -c "SELECT count(*) > 0 FROM rubberduck.index_advice WHERE status = 'advised'" 2>/dev/null) == t ]]; then
    first_advice=$(awk -v a="$wstart" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    log "first advice after ${first_advice}s"
  fi
  cluster_psql -d bench -c "SELECT note FROM rubberduck.skills WHERE skill = 'indexing'" >>"$note_file" 2>/dev/null || true
  sleep 1
done
wait "$pgb" || { cat "$work/pgbench.txt" >&2; exit 1; }
tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$work/pgbench.txt" | head -1)
log "workload done (tps $tps)"
if [[ -z $first_advice ]]; then
  cluster_psql -d bench -c "SELECT rubberduck.wake_agent('data_persistence')" >/dev/null
  first_advice=">$duration"
fi

# Wake the agent until its advised set is the same twice in a row (at most 10 cycles).
prev=""
for _ in $(seq 1 10); do
  cluster_psql -d bench -c "SELECT rubberduck.wake_agent('data_persistence')" >/dev/null
  cluster_psql -d bench -c "SELECT note FROM rubberduck.skills WHERE skill = 'indexing'" >>"$note_file"
  cur=$(cluster_psql -d bench -c "SELECT string_agg(advice_key, ',' ORDER BY advice_key) FROM rubberduck.index_advice WHERE status = 'advised'")
  [[ -n $cur && $cur == "$prev" ]] && break
  prev=$cur
done
# Worker time of each advice computation ("... what-if plans in 1.23 s: ...").
advice_s=$(sed -nE 's/.* what-if plans in ([0-9.]+) s.*/\1/p' "$note_file" | bench_min_max)
last_note=$(cluster_psql -d bench -c "SELECT note FROM rubberduck.skills WHERE skill = 'indexing'")
log "skill note: $last_note"
cluster_psql -d bench -c "SELECT ddl FROM rubberduck.index_advice WHERE status = 'advised' ORDER BY relation, ddl" \
  | sed 's/ CONCURRENTLY//' >"$work/advised.sql"
cluster_psql -d bench -c "SELECT relation, columns, include, method, predicate, round(est_improvement_pct::numeric, 1), reason
                            FROM rubberduck.index_advice WHERE status = 'advised' ORDER BY relation, columns::text" \
  >"$work/advised.txt"
cluster_psql -d bench -c "SELECT i FROM json_array_elements_text(pg_qualstats_index_advisor() -> 'indexes') i" \
  >"$work/qualstats.raw"
# Its list repeats some definitions: build each distinct one once (in its order).
awk '!seen[$0]++' "$work/qualstats.raw" >"$work/qualstats.sql"
grep -v '^--' "$here/expert.sql" | grep -v '^$' >"$work/expert.sql"
: >"$work/none.sql"

# ---- 3. configurations --------------------------------------------------------------------------------------
configs=(none advised expert qualstats)
declare -A nidx size build_s
: >"$work/failed.txt"
for c in "${configs[@]}"; do
  clone "cfg_$c"
  t0=$(date +%s.%N)
  while IFS= read -r ddl; do
    [[ -z $ddl ]] && continue
    # An advisor's DDL that PostgreSQL refuses is reported, not fixed by hand.
    cluster_psql -d "cfg_$c" -c "$ddl" >/dev/null 2>"$work/err.txt" ||
      echo "$c: $ddl -- $(head -1 "$work/err.txt")" >>"$work/failed.txt"
  done <"$work/$c.sql"
  build_s[$c]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  read -r nidx[$c] size[$c] < <(cluster_psql -d "cfg_$c" -F ' ' -c "
    SELECT count(*), coalesce(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND NOT i.indisprimary")
  log "cfg $c: ${nidx[$c]} indexes, ${size[$c]} bytes, built in ${build_s[$c]}s"
done

# ---- 4. measurement -----------------------------------------------------------------------------------------
# Representative statement of a template: \set variables at the middle of their random() range.
represent() {
  awk '
    /^\\set/ { v = $2; e = $0; sub(/^\\set [a-z0-9_]+ /, "", e)
               if (e ~ /^random\(/) { gsub(/[^0-9,]/, "", e); split(e, m, ","); val[v] = int((m[1] + m[2]) / 2) }
               else val[v] = 1
               next }
    /^--/ { next }
    { sql = sql " " $0 }
    END { sub(/;[[:space:]]*$/, "", sql)
          for (v in val) {
            out = ""; rest = sql
            while (match(rest, ":" v "([^a-z0-9_]|$)")) {
              out = out substr(rest, 1, RSTART - 1) val[v]; rest = substr(rest, RSTART + 1 + length(v))
            }
            sql = out rest
          }
          print sql }' "$1"
}
script=$work/measure.sql
: >"$script"
for n in "${names[@]}"; do
  q=$(represent "$work/wl/$n.sql")
  printf "BEGIN;\nSELECT '%s', cost, buffers, ms FROM bench_explain(\$q\$%s\$q\$);\nROLLBACK;\n" "$n" "$q" >>"$script"
done
chmod a+r "$script"
: >"$work/measure.txt"
for r in $(seq 1 "$rounds"); do
  for c in "${configs[@]}"; do
    cluster_psql -d "cfg_$c" -F '|' -f "$script" | grep '|' | sed "s/^/$c|$r|/" >>"$work/measure.txt"
  done
  log "round $r done"
done

# ---- 5. report ----------------------------------------------------------------------------------------------
wfile=$work/weights.txt
for i in "${!names[@]}"; do echo "${names[$i]} ${weights[$i]}"; done >"$wfile"
summary() {  # config → "cost buffers ms"
  # median per template of the execution times, then weighted sums
  local meds
  meds=$(awk -F'|' -v cfg="$1" '$1 == cfg { print $3, $6 }' "$work/measure.txt" | sort -k1,1 -k2,2g |
    awk '{ v[$1] = v[$1] " " $2; k[$1]++ }
         END { for (n in v) { split(substr(v[n], 2), a, " "); c = k[n]
                              print n, (c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2) } }')
  awk -F'|' -v cfg="$1" -v meds="$meds" '
    BEGIN { n = split(meds, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], p, " "); med[p[1]] = p[2] } }
    FNR == NR { split($0, a, " "); w[a[1]] = a[2]; next }
    $1 == cfg && $2 == 1 { cost += w[$3] * $4; buf += w[$3] * $5; ms += w[$3] * med[$3] }
    END { printf "%.0f %.0f %.2f\n", cost, buf, ms }' "$wfile" "$work/measure.txt"
}
declare -A cost buf ms
for c in "${configs[@]}"; do read -r cost[$c] buf[$c] ms[$c] < <(summary "$c"); done
wsum=$(printf '%s\n' "${weights[@]}" | awk '{ s += $1 } END { print s }')
{
  echo "Index advisor comparison: $rows orders ($((data_bytes / 1048576)) MB of data, loaded in ${load_s} s),"
  echo "${#names[@]} templates (total weight $wsum), workload observed for $duration s with $clients clients ($tps tps), $rounds measurement rounds."
  echo
  echo "| configuration | indexes | index storage | weighted cost | × expert | weighted buffers | × expert | weighted time (ms, median) | × expert | build (s) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in "${configs[@]}"; do
    awk -v c="$c" -v n="${nidx[$c]}" -v s="${size[$c]}" -v co="${cost[$c]}" -v ce="${cost[expert]}" \
      -v b="${buf[$c]}" -v be="${buf[expert]}" -v m="${ms[$c]}" -v me="${ms[expert]}" -v bs="${build_s[$c]}" \
      'BEGIN { printf "| %s | %d | %.1f MB | %.0f | %.2f | %.0f | %.2f | %.1f | %.2f | %s |\n",
               c, n, s / 1048576, co, co / ce, b, b / be, m, m / me, bs }'
  done
  echo
  echo "Advisor: first advice ${first_advice} s after the workload started; worker time per advice computation (min max): ${advice_s:-n/a} s."
  echo "Last skill note: $last_note"
  echo
  echo "Advice computations seen (skill notes):"
  grep 'what-if plans in' "$note_file" | sort -u | sed 's/^/    /'
  echo
  echo "Advised (relation | columns | include | method | predicate | est. improvement % | reason):"
  sed 's/^/    /' "$work/advised.txt"
  echo
  echo "Advised DDL:"
  sed 's/^/    /' "$work/advised.sql"
  echo
  echo "pg_qualstats_index_advisor() DDL ($(wc -l <"$work/qualstats.raw") returned, $(wc -l <"$work/qualstats.sql") distinct):"
  sed 's/^/    /' "$work/qualstats.sql"
  echo
  if [[ -s $work/failed.txt ]]; then
    echo "DDL refused by PostgreSQL (left out):"
    sed 's/^/    /' "$work/failed.txt"
    echo
  fi
  echo "Per template: weight; plan cost none / advised / expert / qualstats; buffers none / advised / expert / qualstats:"
  awk -F'|' 'FNR == NR { split($0, a, " "); w[a[1]] = a[2]; next }
             $2 == 1 { c[$3, $1] = $4; b[$3, $1] = $5; seen[$3] = 1 }
             END { for (t in seen)
                   printf "    %-32s %3d %9.1f %9.1f %9.1f %9.1f | %7d %7d %7d %7d\n", t, w[t],
                          c[t, "none"], c[t, "advised"], c[t, "expert"], c[t, "qualstats"],
                          b[t, "none"], b[t, "advised"], b[t, "expert"], b[t, "qualstats"] }' \
    "$wfile" "$work/measure.txt" | sort
} | tee "$out"
echo "# written to $out" >&2
