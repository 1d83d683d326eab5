#!/usr/bin/env bash
# Benchmark (not a test): pxesuite's xinetd against the real xinetd in one run.
#  - stream spawn rate with /bin/true as the server, 1 and 8 concurrent clients;
#  - TFTP first-byte latency through the super-server when every request starts
#    a server (in.tftpd -t 0, cps raised so it does not trip).
# Needs root (namespaces), xinetd and tftpd-hpa. Writes tests/bench/xinetd.out.
# BENCH_SECS (default 3) and BENCH_TFTP_REQUESTS (default 300) shorten or lengthen it.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/bench/xinetd.out
cargo build --release --locked --bins >/dev/null
cargo test --release --locked --test tests -- --ignored --nocapture --exact \
  xinetd::bench_xinetd_spawn_rate_and_tftp_latency 2>/dev/null \
  | grep -E '^(#|ours|theirs)' | tee "$out"
