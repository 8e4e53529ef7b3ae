# shellcheck shell=bash
# tests/lib/cluster.sh — throwaway PostgreSQL clusters for scenarios, pgTAP runs and benchmarks. Source it (bash).
#
# Every cluster lives in its own fresh temp dir (data/, the unix socket, postgres.log), listens on a free port on
# 127.0.0.1, runs the sandbox server (`make sandbox`), never the system one, and is stopped and removed by an EXIT
# trap. Several clusters may exist in one shell (the last started is "current"; see cluster_use) and in parallel
# processes. Servers run as the `postgres` OS user when we are root (initdb/postgres refuse root).
#
# Inputs (environment, all optional):
#   RD_PGBIN        sandbox bin dir (default <checkout>/tmp/pg/usr/lib/postgresql/15/bin)
#   RD_PRELOAD      shared_preload_libraries (default 'pg_stat_statements,rubberduck_agents'; '' or 'none' = none)
#   RD_DATABASE     rubberduck.database (default 'postgres')
#   RD_TMPROOT      parent of the cluster dirs (default ${TMPDIR:-/tmp})
#   RD_KEEP=1       keep cluster dirs at exit (servers are still stopped)
#   RD_START_TIMEOUT seconds pg_ctl waits for start/stop (default 60)
#   RD_LOG_TAIL     lines of each server log printed when the script exits non-zero (default 40; 0 = none)
#   RD_OS_USER      OS user that runs servers when we are root (default postgres)
# Exports after cluster_start: PGHOST PGPORT PGDATA PGUSER PGDATABASE RD_CLUSTER_DIR RD_LOG RD_PGBIN.

if [[ -n ${_RD_CLUSTER_SH_LOADED:-} ]]; then return 0; fi
_RD_CLUSTER_SH_LOADED=1

RD_REPO_ROOT=${RD_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RD_PGBIN=${RD_PGBIN:-$RD_REPO_ROOT/tmp/pg/usr/lib/postgresql/15/bin}
RD_OS_USER=${RD_OS_USER:-postgres}
export RD_REPO_ROOT RD_PGBIN

_RD_CLUSTERS=()   # every cluster dir this shell created, in start order
_RD_EXIT_HOOKS=() # commands registered with rd_on_exit
_RD_TRAP_SET=

rd_die() {
  echo "cluster.sh: $*" >&2
  return 1
}

# Runs a command as the server's OS user (only needed, and only done, when we are root).
rd_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$RD_OS_USER" -- "$@"
  else
    "$@"
  fi
}

# Server-side tools resolve paths and may chdir; run them from a dir the server user can read.
_rd_in_dir() {
  local dir=$1
  shift
  (cd "$dir" && rd_as_pg "$@")
}

# Client tools: keep the caller's cwd (relative paths) when the server user can enter it, else use the cluster dir
# (PostgreSQL's tools chdir back to the cwd when resolving their own path and complain if they cannot).
_rd_client() {
  if [[ ${_RD_CWD_CHECKED:-} != "$PWD" ]]; then
    _RD_CWD_OK=0
    rd_as_pg test -x "$PWD" 2>/dev/null && _RD_CWD_OK=1
    _RD_CWD_CHECKED=$PWD
  fi
  if [[ $_RD_CWD_OK == 1 ]]; then
    rd_as_pg "$@"
  else
    _rd_in_dir "$RD_CLUSTER_DIR" "$@"
  fi
}

# Registers a command to run at exit, before the clusters are stopped (use it instead of `trap ... EXIT`).
rd_on_exit() {
  _RD_EXIT_HOOKS+=("$*")
  _rd_install_trap
}

_rd_install_trap() {
  [[ -n $_RD_TRAP_SET ]] && return 0
  # Keep whatever EXIT trap the caller had and run it after ours.
  local prev
  prev=$(trap -p EXIT)
  _RD_PREV_EXIT_TRAP=
  if [[ -n $prev ]]; then
    local -a parts
    eval "parts=($prev)" # trap -- 'command' EXIT
    _RD_PREV_EXIT_TRAP=${parts[2]}
  fi
  trap _rd_on_exit EXIT
  # Turn signals into a normal exit so the EXIT trap runs (timeout(1) sends TERM).
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  _RD_TRAP_SET=1
}

_rd_on_exit() {
  local rc=$? i dir
  set +e
  for ((i = ${#_RD_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do eval "${_RD_EXIT_HOOKS[i]}"; done
  for ((i = ${#_RD_CLUSTERS[@]} - 1; i >= 0; i--)); do
    dir=${_RD_CLUSTERS[i]}
    [[ -d $dir ]] || continue
    if [[ $rc -ne 0 && ${RD_LOG_TAIL:-40} -gt 0 && -f $dir/postgres.log ]]; then
      echo "# ---- last ${RD_LOG_TAIL:-40} lines of $dir/postgres.log (exit status $rc)" >&2
      tail -n "${RD_LOG_TAIL:-40}" "$dir/postgres.log" | sed 's/^/# /' >&2
    fi
    _rd_stop_dir "$dir"
    if [[ ${RD_KEEP:-0} == 1 ]]; then
      echo "# kept cluster dir $dir" >&2
    else
      rm -rf "$dir"
    fi
  done
  [[ -n ${_RD_PREV_EXIT_TRAP:-} ]] && eval "$_RD_PREV_EXIT_TRAP"
  return "$rc"
}

# Stops the server of a cluster dir if it runs: fast, then immediate, then SIGKILL.
_rd_stop_dir() {
  local dir=$1 t=${RD_START_TIMEOUT:-60} pid
  [[ -f $dir/data/postmaster.pid ]] || return 0
  _rd_in_dir "$dir" "$RD_PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t "$t" stop >/dev/null 2>&1 && return 0
  _rd_in_dir "$dir" "$RD_PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 && return 0
  pid=$(head -n1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
  rm -f "$dir/data/postmaster.pid"
  return 0
}

# If the server user cannot reach the sandbox (e.g. a checkout under /root), mirror it under /tmp once.
_rd_ensure_pgbin() {
  [[ -x $RD_PGBIN/postgres ]] || rd_die "no server at $RD_PGBIN: run 'make sandbox' first (or set RD_PGBIN)" || return 1
  [[ $(id -u) -eq 0 ]] || return 0
  local lib
  lib=$("$RD_PGBIN/pg_config" --pkglibdir)
  if rd_as_pg test -x "$RD_PGBIN/postgres" && rd_as_pg test -r "$lib/plpgsql.so"; then return 0; fi
  local src dst
  src=$(cd "$RD_PGBIN/../../../../.." && pwd)
  dst=${TMPDIR:-/tmp}/rd-sandbox-$(printf '%s' "$src" | cksum | cut -d' ' -f1)
  (
    flock 9
    if [[ ! -f $dst/.stamp ]] || [[ -n $(find "$src" -newer "$dst/.stamp" -print -quit) ]]; then
      rm -rf "$dst.new" && mkdir -p "$dst.new" && cp -a "$src/." "$dst.new/" && chmod -R a+rX "$dst.new" \
        && touch "$dst.new/.stamp" && rm -rf "$dst" && mv "$dst.new" "$dst"
    fi
  ) 9>"$dst.lock" || rd_die "could not mirror the sandbox to $dst" || return 1
  echo "# sandbox not readable by $RD_OS_USER; using a copy in $dst" >&2
  RD_PGBIN=$dst${RD_PGBIN#"$src"}
  export RD_PGBIN
}

# A port in 10000-32000 (below Linux's ephemeral range) with no TCP socket on it right now.
_rd_free_port() {
  local port hex try
  for ((try = 0; try < 200; try++)); do
    port=$((10000 + ((RANDOM << 15) | RANDOM) % 22000))
    printf -v hex ':%04X ' "$port"
    if ! grep -qs -- "$hex" /proc/net/tcp /proc/net/tcp6; then
      echo "$port"
      return 0
    fi
  done
  rd_die "no free port found"
}

_rd_preload() {
  local p=${RD_PRELOAD-pg_stat_statements,rubberduck_agents}
  [[ $p == none ]] && p=
  echo "$p"
}

# Makes a cluster dir current: sets and exports PGHOST PGPORT PGDATA RD_CLUSTER_DIR RD_LOG.
cluster_use() {
  local dir=${1:?cluster_use DIR}
  [[ -f $dir/port ]] || rd_die "$dir is not a cluster dir" || return 1
  RD_CLUSTER_DIR=$dir
  PGHOST=$dir
  PGPORT=$(<"$dir/port")
  PGDATA=$dir/data
  RD_LOG=$dir/postgres.log
  PGUSER=postgres
  PGDATABASE=${PGDATABASE:-postgres}
  export RD_CLUSTER_DIR PGHOST PGPORT PGDATA RD_LOG PGUSER PGDATABASE
}

# cluster_start [conf line...] — initdb + start a fresh cluster and make it current. Conf lines are appended to
# postgresql.conf after the defaults (later lines win), e.g. "rubberduck.naptime = '200ms'".
cluster_start() {
  _rd_ensure_pgbin || return 1
  local root=${RD_TMPROOT:-${TMPDIR:-/tmp}} dir port attempt line
  dir=$(mktemp -d "$root/rd-cluster.XXXXXX") || return 1
  _RD_CLUSTERS+=("$dir")
  _rd_install_trap
  # Unix socket paths are limited to 107 bytes.
  ((${#dir} < 80)) || rd_die "cluster dir path too long for a unix socket: $dir (set RD_TMPROOT)" || return 1
  if [[ $(id -u) -eq 0 ]]; then chown "$RD_OS_USER:" "$dir"; fi
  chmod 700 "$dir"
  if ! _rd_in_dir "$dir" "$RD_PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync --no-locale \
    -E UTF8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rd_die "initdb failed in $dir"
    return 1
  fi
  {
    echo
    echo "# ---- tests/lib/cluster.sh"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "logging_collector = off"
    echo "log_line_prefix = '%m [%p] %b %q%u@%d '"
    echo "lc_messages = 'C'"
    echo "fsync = off"
    echo "shared_preload_libraries = '$(_rd_preload)'"
    echo "rubberduck.database = '${RD_DATABASE:-postgres}'"
    for line in "$@"; do echo "$line"; done
  } >>"$dir/data/postgresql.conf"
  # Another process may take the port between the probe and the bind: retry with a new one.
  for ((attempt = 1; attempt <= 10; attempt++)); do
    port=$(_rd_free_port) || return 1
    echo "$port" >"$dir/port"
    echo "port = $port" >>"$dir/data/postgresql.conf"
    : >"$dir/postgres.log"
    if [[ $(id -u) -eq 0 ]]; then chown "$RD_OS_USER:" "$dir/postgres.log" "$dir/port"; fi
    if _rd_in_dir "$dir" "$RD_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
      -t "${RD_START_TIMEOUT:-60}" start >"$dir/pg_ctl.log" 2>&1; then
      cluster_use "$dir"
      return 0
    fi
    if grep -qE 'could not bind|could not create any TCP/IP sockets|Address already in use' "$dir/postgres.log"; then
      continue
    fi
    break
  done
  cat "$dir/pg_ctl.log" >&2
  tail -n 30 "$dir/postgres.log" >&2
  rd_die "server in $dir did not start"
}

# cluster_conf [conf line...] — appends lines to the current cluster's postgresql.conf (no reload).
cluster_conf() {
  local line
  for line in "$@"; do echo "$line"; done >>"$PGDATA/postgresql.conf"
}

# cluster_reload — SIGHUP the current cluster (pg_reload_conf()).
cluster_reload() {
  _rd_in_dir "$RD_CLUSTER_DIR" "$RD_PGBIN/pg_ctl" -D "$PGDATA" reload >/dev/null
}

# cluster_restart [conf line...] — appends the lines, then restarts (or starts, if stopped) the current cluster.
cluster_restart() {
  [[ $# -gt 0 ]] && cluster_conf "$@"
  local t=${RD_START_TIMEOUT:-60}
  if [[ -f $PGDATA/postmaster.pid ]]; then
    _rd_in_dir "$RD_CLUSTER_DIR" "$RD_PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t "$t" stop >/dev/null ||
      rd_die "stop failed in $RD_CLUSTER_DIR" || return 1
  fi
  if ! _rd_in_dir "$RD_CLUSTER_DIR" "$RD_PGBIN/pg_ctl" -D "$PGDATA" -l "$RD_LOG" -w -t "$t" start \
    >"$RD_CLUSTER_DIR/pg_ctl.log" 2>&1; then
    tail -n 30 "$RD_LOG" >&2
    rd_die "restart failed in $RD_CLUSTER_DIR"
    return 1
  fi
}

# cluster_stop [mode] — stops the current cluster (default mode fast); its dir stays until exit.
cluster_stop() {
  _rd_in_dir "$RD_CLUSTER_DIR" "$RD_PGBIN/pg_ctl" -D "$PGDATA" -m "${1:-fast}" -w -t "${RD_START_TIMEOUT:-60}" \
    stop >/dev/null
}

# cluster_psql [psql args...] — psql as the server user on the current cluster: -X -v ON_ERROR_STOP=1 -At.
# Feed SQL with -c or on stdin: files under root-only dirs are unreadable to the server user (see cluster_copy_in).
cluster_psql() {
  _rd_client "$RD_PGBIN/psql" -X -v ON_ERROR_STOP=1 -At -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGDATABASE" "$@"
}

# pgbench_run [pgbench args...] — the sandbox pgbench as the server user on the current cluster.
pgbench_run() {
  _rd_client "$RD_PGBIN/pgbench" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"
}

# cluster_copy_in FILE — copies FILE into the cluster dir (readable by the server user); prints the new path.
cluster_copy_in() {
  local src=${1:?cluster_copy_in FILE} dst
  dst=$RD_CLUSTER_DIR/$(basename "$src")
  cp "$src" "$dst"
  if [[ $(id -u) -eq 0 ]]; then chown "$RD_OS_USER:" "$dst"; fi
  echo "$dst"
}

# cluster_log_has PATTERN — true if the current cluster's log matches the extended regex.
cluster_log_has() {
  grep -Eq -- "${1:?cluster_log_has PATTERN}" "$RD_LOG"
}

# cluster_log_wait PATTERN [TIMEOUT_S] — waits until the log matches (default 30 s).
cluster_log_wait() {
  local pattern=${1:?cluster_log_wait PATTERN} deadline
  deadline=$((${EPOCHREALTIME/./} + ${2:-30} * 1000000))
  until cluster_log_has "$pattern"; do
    if ((${EPOCHREALTIME/./} >= deadline)); then
      echo "cluster_log_wait: no '$pattern' in $RD_LOG after ${2:-30}s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# wait_for SQL_PREDICATE [TIMEOUT_S] — polls until the query returns t (errors count as "not yet"; default 30 s).
wait_for() {
  local sql=${1:?wait_for SQL [TIMEOUT_S]} timeout=${2:-30} out deadline
  deadline=$((${EPOCHREALTIME/./} + timeout * 1000000))
  while :; do
    out=$(cluster_psql -c "$sql" 2>&1) && [[ $out == t ]] && return 0
    if ((${EPOCHREALTIME/./} >= deadline)); then
      echo "wait_for: not true after ${timeout}s: $sql (last: ${out:0:300})" >&2
      return 1
    fi
    sleep 0.2
  done
}
