#!/usr/bin/env bash
# Boots Debian's i386 Linux kernel with a busybox initramfs on this terminal:
# fetches the guests on first use (scripts/fetch-guests.py), then runs
# `moon86 boot` with the serial port on stdio. Ctrl-A X quits.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/fetch-guests.py --quiet >/dev/null
exec cargo run --release --quiet -- boot \
    --kernel .cache/guests/vmlinuz \
    --initrd .cache/guests/initramfs.cpio.gz \
    --append "console=ttyS0 i8042.noaux cryptomgr.notests" "$@"
