# shellcheck shell=bash
# tests/lib/tap.sh — TAP output for scenario scripts (source it). run_scenarios.sh counts the `ok` / `not ok` lines.
# Assertions always return 0 so a script under `set -e` goes on after a failed one; use tap_bail_if_failed where
# later steps make no sense without the earlier ones.
#   tap_ok DESC CMD [ARGS...]     runs CMD; ok if it exits 0
#   tap_fails DESC CMD [ARGS...]  runs CMD; ok if it exits non-zero
#   tap_is GOT EXPECTED DESC      string equality
#   tap_like GOT REGEX DESC       extended-regex match
#   tap_cmp A OP B DESC           numeric comparison (OP: -eq -ne -lt -le -gt -ge)
#   tap_diag MSG...               "# MSG" on stderr
#   tap_bail_if_failed [MSG]     stops the script (exit 1) if any assertion failed so far
#   tap_done                      prints the plan and exits 0 if nothing failed, 1 otherwise

if [[ -n ${_RD_TAP_SH_LOADED:-} ]]; then return 0; fi
_RD_TAP_SH_LOADED=1
_TAP_N=0
_TAP_FAILED=0

_tap_result() {
  local pass=$1 desc=$2
  _TAP_N=$((_TAP_N + 1))
  if [[ $pass == 1 ]]; then
    echo "ok $_TAP_N - $desc"
  else
    echo "not ok $_TAP_N - $desc"
    _TAP_FAILED=$((_TAP_FAILED + 1))
  fi
}

tap_diag() {
  local line
  while IFS= read -r line; do echo "# $line" >&2; done <<<"$*"
}

tap_ok() {
  local desc=$1
  shift
  if "$@"; then
    _tap_result 1 "$desc"
  else
    _tap_result 0 "$desc"
    tap_diag "command failed: $*"
  fi
}

tap_fails() {
  local desc=$1
  shift
  if "$@"; then
    _tap_result 0 "$desc"
    tap_diag "command succeeded but should have failed: $*"
  else
    _tap_result 1 "$desc"
  fi
}

tap_is() {
  if [[ $1 == "$2" ]]; then
    _tap_result 1 "$3"
  else
    _tap_result 0 "$3"
    tap_diag "got:      '$1'
expected: '$2'"
  fi
}

tap_like() {
  if [[ $1 =~ $2 ]]; then
    _tap_result 1 "$3"
  else
    _tap_result 0 "$3"
    tap_diag "got:      '$1'
expected to match: $2"
  fi
}

tap_cmp() {
  if [[ $1 =~ ^-?[0-9]+$ && $3 =~ ^-?[0-9]+$ ]] && test "$1" "$2" "$3"; then
    _tap_result 1 "$4"
  else
    _tap_result 0 "$4"
    tap_diag "expected: $1 $2 $3"
  fi
}

tap_bail_if_failed() {
  if ((_TAP_FAILED > 0)); then
    echo "Bail out! ${1:-$_TAP_FAILED assertion(s) failed}"
    exit 1
  fi
}

tap_done() {
  echo "1..$_TAP_N"
  if ((_TAP_FAILED > 0)); then
    tap_diag "$_TAP_FAILED of $_TAP_N failed"
    exit 1
  fi
  exit 0
}
