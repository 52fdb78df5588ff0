#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres, trust auth, database
# "test") and Redis (127.0.0.1:6379) are running, installing them with
# apt-get when they are missing. Idempotent; prints what it did.
set -euo pipefail

need_root() {
  if [ "$(id -u)" -ne 0 ]; then echo "services: $* needs root" >&2; exit 1; fi
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

apt_updated=""
apt_install() {
  need_root "installing $*"
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "services: installing PostgreSQL"
  apt_install postgresql
fi
if ! pg_up; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
fi
pg_up || { echo "services: PostgreSQL did not come up" >&2; exit 1; }

# Trust auth over TCP for the test user, and the test database.
hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  echo "services: enabling trust auth on 127.0.0.1 for tests"
  need_root "editing $hba"
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main reload
  sleep 1
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1; then
  echo "services: creating database test"
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
fi

if ! command -v redis-server >/dev/null; then
  echo "services: installing Redis"
  apt_install redis-server
fi
if ! redis_up; then
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 60); do redis_up && break; sleep 0.5; done
fi
redis_up || { echo "services: Redis did not come up" >&2; exit 1; }
echo "services: PostgreSQL and Redis are up"
