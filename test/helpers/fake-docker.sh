#!/bin/sh
# A stand-in for the docker CLI's transport only: `docker exec -i NAME /bin/sh -c SCRIPT` runs SCRIPT with
# a real busybox shell chrooted into $SCHEDCTL_TEST_CONTAINERS/NAME (with /proc and /dev mounted) and the
# environment listed in $SCHEDCTL_TEST_CONTAINERS/NAME.env. The script, shell, od and tar are all real.
set -eu
[ "${1:-}" = "exec" ] || { echo "fake-docker: only 'exec' is supported" >&2; exit 64; }
shift
[ "${1:-}" = "-i" ] && shift
name=$1; shift
root="$SCHEDCTL_TEST_CONTAINERS/$name"
[ -d "$root" ] || { echo "Error response from daemon: No such container: $name" >&2; exit 1; }
envs=""
[ -f "$root.env" ] && envs=$(cat "$root.env")
exec unshare -m /bin/sh -c 'mount -t proc proc "$0/proc" && mount --bind /dev "$0/dev" && exec env -i $1 /usr/sbin/chroot "$0" "$2" "$3" "$4"' "$root" "$envs" "$@"
