#!/usr/bin/env bash
# Benchmark (not a test): `dhcpd -t` on a generated config with 50,000 hosts
# and 1,000 subnets, ours against ISC dhcpd in the same run, interleaved.
# Prints each run's wall time and peak RSS, then the medians and ratios.
# Usage: tests/bench/dhcpd-conf-bench.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
isc=${ISC_DHCPD:-/usr/sbin/dhcpd}
cargo build --release --locked --bin dhcpd >/dev/null 2>&1
ours=target/release/dhcpd
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
conf=$work/dhcpd.conf

# 1,000 subnets 10.A.B.0/24 with a range each; 50 hosts per subnet.
awk 'BEGIN {
  print "ddns-update-style none;\nauthoritative;\ndefault-lease-time 600;\nmax-lease-time 7200;"
  for (s = 0; s < 1000; s++) {
    a = int(s / 250) + 1; b = s % 250
    printf "subnet 10.%d.%d.0 netmask 255.255.255.0 {\n  option routers 10.%d.%d.1;\n  range 10.%d.%d.100 10.%d.%d.200;\n  next-server 10.%d.%d.1;\n  filename \"pxelinux.0\";\n}\n", a, b, a, b, a, b, a, b, a, b
  }
  for (h = 0; h < 50000; h++) {
    s = int(h / 50); a = int(s / 250) + 1; b = s % 250
    printf "host node%05d {\n  hardware ethernet 02:00:%02x:%02x:%02x:%02x;\n  fixed-address 10.%d.%d.%d;\n  option host-name \"node%05d\";\n}\n", h, int(h / 16777216) % 256, int(h / 65536) % 256, int(h / 256) % 256, h % 256, a, b, 10 + h % 50, h
  }
}' > "$conf"

echo "config: $(wc -c < "$conf") bytes, $(grep -c '^host ' "$conf") hosts, $(grep -c '^subnet ' "$conf") subnets"
echo "run prog seconds max_rss_kb status"
measure() { # prog binary
  local status=0
  /usr/bin/time -o "$work/time" -f '%e %M' "$2" -t -q -cf "$conf" >/dev/null 2>&1 || status=$?
  echo "$1 $(tail -n 1 "$work/time") $status"
}
for i in $(seq "$runs"); do
  r1=$(measure isc "$isc"); r2=$(measure ours "$ours")
  echo "$i $r1"; echo "$i $r2"
done | tee "$work/raw"
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for p in isc ours; do
  t=$(awk -v p=$p '$2 == p { print $3 }' "$work/raw" | median)
  m=$(awk -v p=$p '$2 == p { print $4 }' "$work/raw" | median)
  echo "median $p: ${t} s, ${m} kB"
  eval "t_$p=$t m_$p=$m"
done
awk -v a="$t_isc" -v b="$t_ours" -v c="$m_isc" -v d="$m_ours" 'BEGIN { printf "ours/isc: time %.2f, peak memory %.2f\n", b / a, d / c }'
