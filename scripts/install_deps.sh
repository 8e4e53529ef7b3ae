#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need (idempotent; quiet when all are present).
set -euo pipefail
pkgs=(postgresql-15 postgresql-contrib postgresql-server-dev-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
      libboost-dev libgtest-dev cmake g++ make pgbench-placeholder)
pkgs=("${pkgs[@]/pgbench-placeholder/postgresql-client-15}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
