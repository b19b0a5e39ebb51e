#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with a `test`
# database that user `postgres` can reach without a password, for the
# benchmarks (bench/) and for developers who want a persistent server (the
# tests start their own; VITALCORE_PG_URL points them at this one instead).
# Installs Debian's PostgreSQL when absent.
# Only for test and development machines: it sets trust authentication.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

if ! ready; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q "vitalcore-test" "$hba"; then
    # Trust local TCP connections, as on the development machines.
    sed -i '1i host all all 127.0.0.1/32 trust # vitalcore-test\nhost all all ::1/128 trust # vitalcore-test' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi

ready || { echo "ensure-postgres: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
echo "ensure-postgres: PostgreSQL ready on 127.0.0.1:5432 (database test)"
