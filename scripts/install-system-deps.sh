#!/usr/bin/env bash
# Installs the real system parts the test suite runs against (Debian/Ubuntu, as root):
# Debian's python3 with tzlocal/APScheduler/Flask/redis-py, gunicorn, redis-server, nginx, tzdata,
# util-linux (unshare, flock, lslocks, setpriv) and mount (mount --bind in private namespaces), busybox-static (a real busybox shell for container snapshots), and
# gcc + musl-tools (a tiny C probe compiled against glibc and musl, to check schedctl's reading of TZ against
# both real C libraries), bsdutils (script: a pseudo-terminal), openssl (a TLS Redis), patch and diffutils
# (gen --diff applies). Safe to run again; does nothing when everything is present.
set -euo pipefail
packages=(
  python3 python3-tzlocal python3-apscheduler python3-flask python3-redis gunicorn
  redis-server redis-tools nginx tzdata util-linux mount busybox-static coreutils tar
  gcc libc6-dev musl-tools bsdutils openssl patch diffutils dash
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: need root to install: ${missing[*]} (run with sudo)" >&2
  exit 1
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Distribution packages start their daemons on install; the tests start their own on free ports.
for svc in redis-server nginx; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "system packages: done"
