#!/usr/bin/env bash
# Records the real ISC dhcpd's verdict on every case as NAME.isc: its error
# lines (`line N: message`, path removed, or a fatal message without a line)
# and `status N`. Run by hand when cases are added; the output is committed.
set -u
cd "$(dirname "$0")"
isc=${ISC_DHCPD:-/usr/sbin/dhcpd}
for dir in ok err; do
  for conf in "$dir"/*.conf; do
    name=$(basename "$conf" .conf)
    out=$(cd "$dir" && timeout 10 "$isc" -t -4 -cf "$name.conf" 2>&1)
    status=$?
    {
      printf '%s\n' "$out" | sed -n \
        -e "s/^$name\.conf line /line /p" \
        -e "s/^\([^ ]*\) line \([0-9]*\): /\1 line \2: /p" \
        -e '/^Can.t open /p' -e '/^bad range/p' -e '/^OMAPI key /p' -e '/no longer supported/p' -e '/^No subnet declaration for range/p' -e "/sanity check failed/p" \
        | LC_ALL=C awk '!seen[$0]++' | LC_ALL=C sed "s/^OMAPI key .*: not found/OMAPI key (name): not found/"
      echo "status $status"
    } > "$dir/$name.isc"
  done
done
