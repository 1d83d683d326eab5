#!/usr/bin/env bash
# Installs what the lab and the tests need on a fresh Debian machine (as root):
# the real peers and clients, QEMU with iPXE and OVMF, pxelinux, busybox, and a
# Debian kernel for the lab's guest (downloaded, not installed). Services are
# blocked from starting on the host while packages install.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  iproute2 util-linux procps psmisc kmod
  isc-dhcp-server isc-dhcp-client udhcpc
  xinetd tftpd-hpa tftp-hpa atftp curl dnsmasq-base
  qemu-system-x86 ipxe-qemu ovmf
  pxelinux syslinux-common syslinux-efi busybox-static
  mandoc
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "$(id -u)" != 0 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: not root; cannot install: ${missing[*]}" >&2
  fi
  exit 0
fi

if [ ${#missing[@]} -gt 0 ] || [ ! -s target/lab-cache/vmlinuz ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Debian's service packages start their daemons on install: forbid that on the host.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; fi
  apt-get update -q
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ $had_policy = 0 ]; then rm -f "$policy"; fi
fi

# The lab's guest kernel: the current Debian kernel package, unpacked, never installed.
cache=target/lab-cache
if [ ! -s "$cache/vmlinuz" ]; then
  mkdir -p "$cache"
  kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
  [ -n "$kpkg" ] || { echo "deps: cannot find the Debian kernel package" >&2; exit 1; }
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q "$kpkg" >/dev/null)
  dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
  cp "$tmp"/x/boot/vmlinuz-* "$cache/vmlinuz.tmp"
  mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
  echo "$kpkg" > "$cache/vmlinuz.package"
  rm -rf "$tmp"
fi
