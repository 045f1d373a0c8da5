#!/usr/bin/env bash
# Compares moon86's interpreter and JIT with qemu-system-i386 (TCG) on two
# guests, by host wall time:
#
#   1. the benchmark kernel guests/bench/workload.bin (Multiboot; about 212
#      million instructions in four phases that print checksums on COM1),
#      run to its exit; the three emulators must print the same checksums;
#   2. Debian's i386 Linux with the busybox initramfs of
#      scripts/fetch-guests.py, booted until the init marker appears on the
#      serial port (same kernel, initrd, command line and RAM size).
#
# Guest MIPS use the instruction count moon86 reports (benches/workload.lua
# and benches/linux_boot.lua print `icount`). For the workload QEMU executes
# the same guest instructions (plus its firmware), so its MIPS figure is
# comparable; for Linux it is not (QEMU's board, CPU model and wall-clock
# timers make the kernel run other code), so only wall times are shown.
#
#   benches/vs_qemu.sh [--runs N] [--skip-linux]
#
# --runs N keeps the best (lowest) wall time of N runs of each workload
# measurement (default 1). Installs qemu-system-x86 with apt-get when
# qemu-system-i386 is missing. Figures are only meaningful on an otherwise
# idle machine: the load average is printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."

invocation=$(printf '%q ' "$0" "$@")
runs=1
linux=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --skip-linux) linux=0; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "vs_qemu.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done

need() { command -v "$1" >/dev/null 2>&1; }
if ! need qemu-system-i386; then
    echo "== installing qemu-system-x86 (for qemu-system-i386)"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq qemu-system-x86
    else sudo apt-get update -qq && sudo apt-get install -y -qq qemu-system-x86; fi
fi

echo "== building moon86 (release)"
cargo build --release --quiet
moon86="${CARGO_TARGET_DIR:-target}/release/moon86"

tmp=$(mktemp -d)
qemu_pid=""
cleanup() {
    if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# Until moon86 has --jit, both moon86 rows run the default engine.
if "$moon86" run --help 2>&1 | grep -q -- '--jit'; then
    jit_off=(--jit off); jit_on=(--jit on)
    engines="--jit off and --jit on"
else
    jit_off=(); jit_on=()
    engines="this moon86 has no --jit option: both moon86 rows run its default engine"
fi

now() { date +%s.%N; }
# elapsed START END -> seconds with two decimals
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# mips INSTRUCTIONS SECONDS
mips() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s / 1e6; else print "-" }'; }
# ratio A B -> A / B
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# lower A B -> the smaller
lower() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }
# show CMD... prints the command, quoting only the words that need it
show() {
    local w line='$'
    for w in "$@"; do
        if [[ $w =~ ^[A-Za-z0-9_./:=,+-]+$ ]]; then line+=" $w"; else line+=" $(printf %q "$w")"; fi
    done
    echo "$line"
}

echo "== vs_qemu.sh: moon86 (interpreter, JIT) and qemu-system-i386 TCG"
echo "command:  $invocation"
echo "host CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) CPUs"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
echo "moon86:   $(git describe --always --dirty 2>/dev/null || echo unknown); $engines"
echo "qemu:     $(qemu-system-i386 --version | head -n 1)"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"

# ---- 1. the workload kernel ---------------------------------------------

kernel=guests/bench/workload.bin
# Results by run: interp, jit, qemu (workload) and linux-interp, linux-jit,
# linux-qemu.
declare -A wall icount sums

moon86_workload() { # LABEL ENGINE-FLAGS... -> wall[LABEL], icount[LABEL], sums[LABEL]
    local label=$1; shift
    local best="" i start end
    show "$moon86" run "$@" benches/workload.lua "$kernel"
    for ((i = 0; i < runs; i++)); do
        start=$(now)
        "$moon86" run "$@" benches/workload.lua "$kernel" >"$tmp/$label.out"
        end=$(now)
        best=$(lower "$(elapsed "$start" "$end")" "$best")
    done
    wall[$label]=$best
    icount[$label]=$(sed -n 's/^icount //p' "$tmp/$label.out")
    sums[$label]=$(grep '^phase' "$tmp/$label.out" || true)
}

qemu_workload=(qemu-system-i386 -accel tcg -m 64 -display none -monitor none -no-reboot
    -serial "file:$tmp/qemu.log" -kernel "$kernel"
    -device "isa-debug-exit,iobase=0xf4,iosize=0x04")

echo
echo "== workload: $kernel"
moon86_workload interp "${jit_off[@]}"
moon86_workload jit "${jit_on[@]}"
show "${qemu_workload[@]}"
wall[qemu]=""
for ((i = 0; i < runs; i++)); do
    start=$(now)
    status=0
    "${qemu_workload[@]}" || status=$?
    end=$(now)
    if [ "$status" != 1 ]; then
        echo "vs_qemu.sh: qemu exited with status $status, not 1 (the guest's exit port write of 0)" >&2
        exit 1
    fi
    wall[qemu]=$(lower "$(elapsed "$start" "$end")" "${wall[qemu]}")
done
sums[qemu]=$(grep '^phase' "$tmp/qemu.log" || true)

echo "${sums[interp]}"
if [ "$(grep -c . <<<"${sums[interp]}")" != 4 ] || [ "${sums[jit]}" != "${sums[interp]}" ] || [ "${sums[qemu]}" != "${sums[interp]}" ]; then
    echo "vs_qemu.sh: the checksums differ" >&2
    diff <(echo "${sums[interp]}") <(echo "${sums[jit]}") | sed 's/^/  interp vs jit: /' >&2 || true
    diff <(echo "${sums[interp]}") <(echo "${sums[qemu]}") | sed 's/^/  interp vs qemu: /' >&2 || true
    exit 1
fi
echo "checksums: identical in the three runs"
if [ "${icount[jit]}" != "${icount[interp]}" ]; then
    echo "note: the JIT run reports ${icount[jit]} instructions, the interpreter ${icount[interp]}"
fi

# ---- 2. Linux to the init marker ----------------------------------------

if [ $linux = 1 ]; then
    echo
    echo "== Linux: fetching the guests (scripts/fetch-guests.py)"
    guests=$(python3 scripts/fetch-guests.py --quiet)
    get() { sed -n "s/^$1=//p" <<<"$guests"; }
    lkernel=$(get kernel); linitrd=$(get initramfs); marker=$(get marker)
    cmdline="console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests"
    ram_mb=256

    moon86_linux() { # LABEL ENGINE-FLAGS...
        local label=$1; shift
        local cmd=("$moon86" run "$@" benches/linux_boot.lua "$lkernel" "$linitrd" "$marker" "$cmdline" "${ram_mb}M")
        show "${cmd[@]}"
        local start end
        start=$(now)
        "${cmd[@]}" >"$tmp/linux-$label.out"
        end=$(now)
        wall[linux-$label]=$(elapsed "$start" "$end")
        icount[linux-$label]=$(sed -n 's/^icount //p' "$tmp/linux-$label.out")
    }
    moon86_linux interp "${jit_off[@]}"
    moon86_linux jit "${jit_on[@]}"

    # QEMU cannot stop itself at the marker: poll its serial log, then kill it.
    qemu_linux=(qemu-system-i386 -accel tcg -m "$ram_mb" -display none -monitor none -no-reboot
        -kernel "$lkernel" -initrd "$linitrd" -append "$cmdline" -serial "file:$tmp/qemu-linux.log")
    show "${qemu_linux[@]}"
    : >"$tmp/qemu-linux.log"
    start=$(now)
    "${qemu_linux[@]}" 2>"$tmp/qemu-linux.err" &
    qemu_pid=$!
    deadline=$(( $(date +%s) + 600 ))
    until grep -qF "$marker" "$tmp/qemu-linux.log"; do
        if ! kill -0 "$qemu_pid" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
            echo "vs_qemu.sh: qemu stopped or timed out before printing $marker:" >&2
            tail -n 20 "$tmp/qemu-linux.log" "$tmp/qemu-linux.err" >&2
            exit 1
        fi
        sleep 0.02
    done
    end=$(now)
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
    wall[linux-qemu]=$(elapsed "$start" "$end")
fi

# ---- the table ----------------------------------------------------------

echo
echo "== results (wall seconds; guest MIPS from moon86's instruction count)"
row() { printf '%-34s %10s %12s\n' "$@"; }
row "workload (${icount[interp]} instructions)" "wall s" "guest MIPS"
row "  moon86 ${jit_off[*]:-(default engine)}" "${wall[interp]}" "$(mips "${icount[interp]}" "${wall[interp]}")"
row "  moon86 ${jit_on[*]:-(default engine)}" "${wall[jit]}" "$(mips "${icount[jit]}" "${wall[jit]}")"
row "  qemu-system-i386 -accel tcg" "${wall[qemu]}" "$(mips "${icount[interp]}" "${wall[qemu]}")"
echo "  JIT speedup over the interpreter:  $(ratio "${wall[interp]}" "${wall[jit]}")x"
echo "  moon86 JIT / QEMU wall time:       $(ratio "${wall[jit]}" "${wall[qemu]}")"
if [ $linux = 1 ]; then
    row "Linux to $marker" "wall s" "guest MIPS"
    row "  moon86 ${jit_off[*]:-(default engine)}" "${wall[linux-interp]}" "$(mips "${icount[linux-interp]}" "${wall[linux-interp]}")"
    row "  moon86 ${jit_on[*]:-(default engine)}" "${wall[linux-jit]}" "$(mips "${icount[linux-jit]}" "${wall[linux-jit]}")"
    row "  qemu-system-i386 -accel tcg" "${wall[linux-qemu]}" "-"
    echo "  instructions to the marker: ${icount[linux-interp]} (interpreter), ${icount[linux-jit]} (JIT)"
    echo "  JIT speedup over the interpreter:  $(ratio "${wall[linux-interp]}" "${wall[linux-jit]}")x"
    echo "  moon86 JIT / QEMU wall time:       $(ratio "${wall[linux-jit]}" "${wall[linux-qemu]}")"
fi
