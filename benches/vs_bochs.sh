#!/usr/bin/env bash
# Compares moon86's interpreter (--jit off) with Bochs, the other
# interpreter, by host wall time on one real boot: power-on through the
# firmware and SYSLINUX (the hard disk scripts/build-bootmedia.py builds)
# to Debian's i386 Linux printing the init marker on COM1. Both run 128 MiB
# with the disk as their first drive, each with its own BIOS (SeaBIOS for
# moon86, Bochs's for Bochs); Bochs runs its default CPU with `clock:
# sync=none` (virtual time, as moon86's), its display on a terminal (the
# `term` library, under `script` for a pseudo-terminal) and its debugger
# told to continue. Each run gets a fresh copy of the disk. The best of
# --runs wall times is kept.
#
#   benches/vs_bochs.sh [--runs N]
#
# Needs Debian's bochs, bochs-term and vgabios (installed with apt-get
# when missing) and the guests of scripts/fetch-guests.py. Figures are
# only meaningful on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "vs_bochs.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done

if ! command -v bochs >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_term_gui.so ] \
    || [ ! -e /usr/share/vgabios/vgabios.bin ]; then
    echo "== installing bochs, bochs-term and vgabios"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq bochs bochs-term bochsbios vgabios
fi

echo "== building moon86 (release) and the boot disk"
cargo build --release --quiet
moon86="${CARGO_TARGET_DIR:-target}/release/moon86"
python3 scripts/fetch-guests.py --quiet
disk=$(python3 scripts/build-bootmedia.py --quiet | sed -n 's/^syslinux_disk=//p')
marker=MOON86-INIT-OK
guests=.cache/guests

tmp=$(mktemp -d)
trap 'pkill -f "$tmp/bochsrc" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# Seconds from now until $1 (a file) holds the marker; "exited" if process
# $2 ends first, "timeout" after 900 s.
wait_marker() {
    local file=$1 pid=$2 start=$EPOCHREALTIME
    while ! grep -qa "$marker" "$file" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "exited"; return; fi
        if [ "$(echo "$EPOCHREALTIME - $start > 900" | bc)" = 1 ]; then echo "timeout"; return; fi
        sleep 0.1
    done
    echo "$EPOCHREALTIME - $start" | bc
}

cat >"$tmp/bochsrc" <<EOF
megs: 128
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=disk, path=$tmp/disk.img, mode=flat
boot: disk
com1: enabled=1, mode=file, dev=$tmp/serial.txt
display_library: term
speaker: enabled=0
sound: driver=dummy
clock: sync=none, time0=1735689600
log: $tmp/bochs.log
panic: action=fatal
error: action=ignore
info: action=ignore
debug: action=ignore
EOF
echo c >"$tmp/continue"

best() { printf '%s\n' "$@" | sort -g | head -1; }
bochs_times=() moon86_times=()
for i in $(seq "$runs"); do
    cp "$disk" "$tmp/disk.img"; rm -f "$tmp/serial.txt" "$tmp/disk.img.lock"
    TERM=xterm script -qfc "bochs -q -f $tmp/bochsrc -rc $tmp/continue" /dev/null >"$tmp/bochs.out" 2>&1 &
    pid=$!
    t=$(wait_marker "$tmp/serial.txt" "$pid")
    pkill -f "$tmp/bochsrc" || true; wait "$pid" 2>/dev/null || true
    case "$t" in exited|timeout)
        echo "vs_bochs.sh: Bochs did not print $marker ($t); the end of its output and log:" >&2
        tail -c 2000 "$tmp/bochs.out" | strings >&2; tail -20 "$tmp/bochs.log" >&2 2>/dev/null
        exit 1 ;;
    esac
    bochs_times+=("$t")
    echo "run $i: bochs $t s"

    cp "$disk" "$tmp/disk.img"
    start=$EPOCHREALTIME
    "$moon86" --jit off run benches/syslinux_boot.lua "$tmp/disk.img" "$guests/bios.bin" \
        "$guests/vgabios-isavga.bin" "$marker" >"$tmp/moon86.out"
    t=$(echo "$EPOCHREALTIME - $start" | bc)
    moon86_times+=("$t")
    echo "run $i: moon86 --jit off $t s ($(sed -n 's/^marker *icount *//p' "$tmp/moon86.out") instructions)"
done

b=$(best "${bochs_times[@]}"); m=$(best "${moon86_times[@]}")
printf '\nSYSLINUX disk to %s, best of %d, load average %s\n' "$marker" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  bochs (Debian %s)  %8.2f s\n' "$(dpkg-query -W -f='${Version}' bochs 2>/dev/null)" "$b"
printf '  moon86 --jit off     %8.2f s\n' "$m"
printf '  moon86 / bochs       %8.2f\n' "$(echo "$m / $b" | bc -l)"
