#!/usr/bin/env bash
# Builds a private copy of the PostgreSQL 15 server tree under tmp/pg and installs this build into it, so tests run
# against exactly this checkout without touching (or depending on) the system-wide install. PostgreSQL finds its
# share and lib directories relative to its binaries, so the copy is fully relocatable.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/tmp/pg
pgbin=/usr/lib/postgresql/15
pgshare=/usr/share/postgresql/15
if [ ! -x "$root$pgbin/bin/postgres" ] || [ "$pgbin/bin/postgres" -nt "$root$pgbin/bin/postgres" ]; then
  rm -rf "$root"; mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
  cp -a "$pgbin" "$root/usr/lib/postgresql/"
  cp -a "$pgshare" "$root/usr/share/postgresql/"
fi
make -s install DESTDIR="$root" >/dev/null
chmod -R a+rX "$PWD/tmp"
echo "$root$pgbin/bin"
