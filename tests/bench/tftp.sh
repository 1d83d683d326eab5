#!/usr/bin/env bash
# TFTP benchmark: pxesuite's in.tftpd against tftpd-hpa (standalone) and, for
# the boot storm, dnsmasq's TFTP server, side by side in one run. Two network
# namespaces over a veth; nothing touches a real interface. Not a test: run it
# by hand (as root) and commit its output.
#
#   tests/bench/tftp.sh [OUTPUT]       N=200 STORM_MIB=4 BIG_MIB=32 by default
#
# (a) one client, BIG_MIB, blksize 512 and 1468 (curl)
# (b) boot storm: N concurrent clients, each from its own address, STORM_MIB
#     at blksize 1468 (curl); ours, tftpd-hpa and dnsmasq --tftp-max=1000
# (c) one client with windowsize 16 (atftp); tftpd-hpa ignores the option
#     and runs lock-step
# Server CPU and peak memory come from a cgroup per server (tftpd-hpa forks a
# process per transfer, so only a cgroup sees all of it).
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-200}
STORM_MIB=${STORM_MIB:-4}
BIG_MIB=${BIG_MIB:-32}
OUT=${1:-}
HPA=/usr/sbin/in.tftpd
DNSMASQ=/usr/sbin/dnsmasq
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces, cgroups)" >&2; exit 1; }

cargo build --release --bin in-tftpd >&2
tag=pxb$$
tmp=$(mktemp -d /tmp/pxesuite-bench.XXXXXX)
chmod 755 "$tmp"
ln -s "$PWD/target/release/in-tftpd" "$tmp/in.tftpd"
root=$tmp/root
mkdir -p "$root"
head -c $((BIG_MIB << 20)) /dev/urandom > "$root/big.bin"
head -c $((STORM_MIB << 20)) /dev/urandom > "$root/storm.bin"
chmod 755 "$root"; chmod 644 "$root"/*.bin
# Warm the page cache outside the servers' cgroups, so they are not charged for it.
cat "$root"/*.bin > /dev/null

mem_base=/sys/fs/cgroup/memory$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup)
cpu_base=/sys/fs/cgroup/cpuacct$(awk -F: '$2=="cpuacct"||$2=="cpu,cpuacct"{print $3}' /proc/self/cgroup)

cleanup() {
  ip netns pids "$tag-s" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns pids "$tag-c" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$tag-s" 2>/dev/null || true
  ip netns del "$tag-c" 2>/dev/null || true
  for d in "$mem_base"/$tag-* "$cpu_base"/$tag-*; do [ -d "$d" ] && rmdir "$d" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$tag-s"; ip netns add "$tag-c"
ip link add "$tag-v0" netns "$tag-s" type veth peer name "$tag-v1" netns "$tag-c"
ip -n "$tag-s" link set lo up; ip -n "$tag-c" link set lo up
ip -n "$tag-s" addr add 10.99.0.1/16 dev "$tag-v0"; ip -n "$tag-s" link set "$tag-v0" up
for i in $(seq 1 "$N"); do
  echo "addr add 10.99.$((1 + i / 250)).$((1 + i % 250))/16 dev $tag-v1"
done | ip -n "$tag-c" -batch -
ip -n "$tag-c" link set "$tag-v1" up

# start NAME PROGRAM ARGS...: runs the server in the server namespace inside fresh cgroups.
start() {
  local name=$1; shift
  mkdir -p "$mem_base/$tag-$name" "$cpu_base/$tag-$name"
  # Join the cgroups before `ip netns exec`, which remounts /sys without them.
  sh -c 'echo $$ > "$1/cgroup.procs"; echo $$ > "$2/cgroup.procs"; shift 2; exec ip netns exec "$@"' \
    sh "$mem_base/$tag-$name" "$cpu_base/$tag-$name" "$tag-s" "$@" > "$tmp/$name.log" 2>&1 &
  for _ in $(seq 100); do
    ip netns exec "$tag-s" ss -uln | grep -q '10.99.0.1:69 ' && return 0
    sleep 0.05
  done
  echo "$name did not start" >&2; cat "$tmp/$name.log" >&2; exit 1
}
stop() {
  local name=$1
  for p in $(cat "$mem_base/$tag-$name/cgroup.procs"); do kill -9 "$p" 2>/dev/null || true; done
  sleep 0.2
}
cpu_ns() { cat "$cpu_base/$tag-$1/cpuacct.usage"; }
usr_ms() { awk '{print int($1 / 1e6)}' "$cpu_base/$tag-$1/cpuacct.usage_user"; }
mem_peak() { cat "$mem_base/$tag-$1/memory.max_usage_in_bytes"; }
now() { date +%s.%N; }

# result NAME CASE BYTES SECONDS CPU_NS FAILED
result() {
  awk -v n="$1" -v c="$2" -v b="$3" -v s="$4" -v cpu="$5" -v f="$6" -v m="$(mem_peak "$1")" -v u="$(usr_ms "$1")" 'BEGIN {
    mib = b / 1048576
    printf "%-8s %-22s %8.1f MiB %7.2f s %8.1f MiB/s  cpu %7.1f ms %6.2f ms/MiB  peak %6.1f MiB  failed %d  (user total %d ms)\n",
      n, c, mib, s, mib / s, cpu / 1e6, cpu / 1e6 / mib, m / 1048576, f, u }'
}

single() { # NAME BLKSIZE
  local t0 t1 c0 c1 size
  c0=$(cpu_ns "$1"); t0=$(now)
  size=$(ip netns exec "$tag-c" curl -s --max-time 120 --tftp-blksize "$2" -o /dev/null -w '%{size_download}' tftp://10.99.0.1/big.bin)
  t1=$(now); c1=$(cpu_ns "$1")
  local failed=0; [ "$size" = $((BIG_MIB << 20)) ] || failed=1
  result "$1" "single blksize $2" "$size" "$(echo "$t1 - $t0" | bc)" $((c1 - c0)) "$failed"
}

storm() { # NAME
  local t0 t1 c0 c1
  c0=$(cpu_ns "$1"); t0=$(now)
  ip netns exec "$tag-c" bash -c '
    for i in $(seq 1 '"$N"'); do
      curl -s --max-time 300 --interface 10.99.$((1 + i / 250)).$((1 + i % 250)) --tftp-blksize 1468 \
        -o /dev/null -w "%{size_download}\n" tftp://10.99.0.1/storm.bin &
    done; wait' > "$tmp/storm.$1"
  t1=$(now); c1=$(cpu_ns "$1")
  local ok bytes
  ok=$(grep -cx "$((STORM_MIB << 20))" "$tmp/storm.$1" || true)
  bytes=$(awk '{s += $1} END {print s + 0}' "$tmp/storm.$1")
  result "$1" "storm ${N}x${STORM_MIB}MiB" "$bytes" "$(echo "$t1 - $t0" | bc)" $((c1 - c0)) $((N - ok))
}

window() { # NAME
  local t0 t1 c0 c1
  c0=$(cpu_ns "$1"); t0=$(now)
  ip netns exec "$tag-c" atftp --option "windowsize 16" --option "blksize 1468" -g -r big.bin -l "$tmp/w.$1" 10.99.0.1 >/dev/null 2>&1 || true
  t1=$(now); c1=$(cpu_ns "$1")
  local size failed=0
  size=$(stat -c %s "$tmp/w.$1" 2>/dev/null || echo 0)
  cmp -s "$tmp/w.$1" "$root/big.bin" || failed=1
  rm -f "$tmp/w.$1"
  result "$1" "windowsize 16" "$size" "$(echo "$t1 - $t0" | bc)" $((c1 - c0)) "$failed"
}

run_all() {
  echo "# pxesuite TFTP benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, kernel $(uname -r)"
  echo "# N=$N STORM_MIB=$STORM_MIB BIG_MIB=$BIG_MIB"
  for s in ${SERVERS:-ours hpa}; do
    case $s in
      ours) start ours "$tmp/in.tftpd" -L -a 10.99.0.1:69 -s "$root" -u nobody ;;
      hpa) start hpa "$HPA" -L -a 10.99.0.1:69 -s "$root" -u nobody ;;
    esac
    single $s 512
    single $s 1468
    window $s
    storm $s
    stop $s
  done
  [ -n "${SERVERS:-}" ] && return 0
  start dnsmasq "$DNSMASQ" -k --conf-file=/dev/null --port=0 --enable-tftp --tftp-root="$root" \
    --tftp-max=1000 --listen-address=10.99.0.1 --bind-interfaces --user=nobody
  storm dnsmasq
  stop dnsmasq
}

if [ -n "$OUT" ]; then run_all | tee "$OUT"; else run_all; fi
