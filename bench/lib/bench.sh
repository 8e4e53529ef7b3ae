# shellcheck shell=bash
# bench/lib/bench.sh — helpers for the benchmarks (source it): server CPU accounting from /proc, pgbench output
# parsing, medians.

# bench_cpu_ticks PM_PID — CPU clock ticks (user+system) used so far by a postmaster and all its children, including
# children that already exited (their time is in the postmaster's cutime/cstime once reaped). Take the difference
# of two samples to get the server's CPU over an interval; divide by `getconf CLK_TCK` for seconds.
bench_cpu_ticks() {
  local pm=${1:?bench_cpu_ticks PM_PID}
  # Fields after "pid (comm) ": state ppid ... utime(12) stime(13) cutime(14) cstime(15). comm may hold spaces
  # and parentheses, so strip up to the last ") ". Processes may vanish while we read: ignore those.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '
    { pid = $1; line = $0; sub(/^[^(]*\(.*\) /, "", line); n = split(line, f, " ")
      if (n >= 15 && (pid == pm || f[2] == pm)) sum += f[12] + f[13] + f[14] + f[15] }
    END { printf "%d\n", sum }'
}

# bench_pgbench_result FILE — prints "TPS TRANSACTIONS" from a pgbench run's output (fails if absent).
bench_pgbench_result() {
  local file=${1:?bench_pgbench_result FILE} tps tx
  tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\).*/\1/p' "$file" | tail -n1)
  tx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$file" | tail -n1)
  [[ -n $tps && -n $tx ]] || return 1
  echo "$tps $tx"
}

# bench_median — median of the numbers on stdin (one per line); empty input prints nothing.
bench_median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2];
                                       else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_min_max — "min max" of the numbers on stdin.
bench_min_max() {
  sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) print lo, hi }'
}
