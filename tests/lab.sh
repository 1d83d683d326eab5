#!/usr/bin/env bash
# The lab (README command 1): installs what it needs, builds the suite and
# PXE-boots a QEMU guest through the reference deployment in a throw-away
# network namespace, printing the boot path. Flags go to pxesuite-lab
# (`--uefi`, `--mac`, `--per-mac`, `--hex-ip`, `--dhcpd`, `--xinetd`, `--tftpd`, …).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
cargo build --locked --release --bins
# Cargo cannot name a binary in.tftpd: link it under its drop-in name.
ln -sfn in-tftpd target/release/in.tftpd
exec target/release/pxesuite-lab --bin-dir "$PWD/target/release" "$@"
