#!/usr/bin/env bash
# Compares moon86's interpreter and JIT with qemu-system-i386 (TCG) on
# three guests, by host wall time:
#
#   0. the compiled-C benchmark kernel guests/bench/compiled.bin (gcc -O2;
#      about 460 million instructions in nine phases), timed phase by phase
#      from its serial lines by benches/phase_times.py (moon86's JIT and
#      QEMU alternating, the best of --runs each), with the ratio per phase;
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
#   3. with --installer, Debian's netboot installer (text mode, fetched by
#      scripts/fetch-guests.py --installer, about 100 MB) until "Select a
#      language" appears on the serial console, the JIT and QEMU only.
#
#   benches/vs_qemu.sh [--runs N] [--skip-linux] [--installer]
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
installer=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --skip-linux) linux=0; shift ;;
        --installer) installer=1; shift ;;
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
mips() { awk -v n="$1" -v s="$2" 'BEGIN { if (n > 0 && s > 0) printf "%.1f", n / s / 1e6; else print "-" }'; }
# ratio A B -> A / B
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }
# lower A B -> the smaller; B may be empty
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

# Results by run (interp, jit, qemu for the workload; linux-interp,
# linux-jit, linux-qemu): wall and CPU (user + system) seconds, the best of
# the runs; moon86's instruction count; the checksum lines.
declare -A wall cpu icount sums
clk_tck=$(getconf CLK_TCK)

# measure LABEL STATUS OUTPUT CMD... runs CMD `runs` times with stdout to
# OUTPUT, expecting exit status STATUS, and keeps the lowest wall and CPU
# times. CPU time is the children's user + system time, from the shell's
# `times` before and after.
measure() {
    local label=$1 want=$2 out=$3; shift 3
    local i start end status c0 c1
    show "$@"
    wall[$label]=""; cpu[$label]=""
    for ((i = 0; i < runs; i++)); do
        child_cpu >"$tmp/c0"
        start=$(now)
        status=0
        "$@" >"$out" || status=$?
        end=$(now)
        child_cpu >"$tmp/c1"
        c0=$(<"$tmp/c0"); c1=$(<"$tmp/c1")
        if [ "$status" != "$want" ]; then
            echo "vs_qemu.sh: exit status $status, not $want, from: $*" >&2
            cat "$out" >&2
            exit 1
        fi
        wall[$label]=$(lower "$(elapsed "$start" "$end")" "${wall[$label]}")
        cpu[$label]=$(lower "$(elapsed "$c0" "$c1")" "${cpu[$label]}")
    done
}
# child_cpu -> user + system seconds of this shell's finished children
# (`times` itself must run in this shell, not in a command substitution)
child_cpu() {
    times >"$tmp/times"
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%.3f", t }' "$tmp/times"
}

# ---- 0. compiled C, phase by phase --------------------------------------

echo
echo "== compiled C: guests/bench/compiled.bin, phase by phase (benches/phase_times.py)"
python3 benches/phase_times.py --runs "$runs" --moon86 "$moon86" guests/bench/compiled.bin

# ---- 1. the workload kernel ---------------------------------------------

kernel=guests/bench/workload.bin
echo
echo "== workload: $kernel"
measure interp 0 "$tmp/interp.out" "$moon86" run "${jit_off[@]}" benches/workload.lua "$kernel"
measure jit 0 "$tmp/jit.out" "$moon86" run "${jit_on[@]}" benches/workload.lua "$kernel"
measure qemu 1 /dev/null qemu-system-i386 -accel tcg -m 64 -display none -monitor none -no-reboot \
    -serial "file:$tmp/qemu.log" -kernel "$kernel" -device "isa-debug-exit,iobase=0xf4,iosize=0x04"
for label in interp jit; do
    icount[$label]=$(sed -n 's/^icount //p' "$tmp/$label.out")
    sums[$label]=$(grep '^phase' "$tmp/$label.out" || true)
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

# qemu_until LABEL MARKER QEMU-ARGS...: runs qemu-system-i386 (TCG, no
# display, the serial port in a log) until MARKER appears on the serial
# port; QEMU cannot stop itself there, so the log is polled and QEMU killed,
# its CPU time read from /proc just before. Sets wall[LABEL] and cpu[LABEL].
qemu_until() {
    local label=$1 marker=$2 start end deadline
    shift 2
    local cmd=(qemu-system-i386 -accel tcg -display none -monitor none -no-reboot
        -serial "file:$tmp/$label.log" "$@")
    show "${cmd[@]}"
    : >"$tmp/$label.log"
    start=$(now)
    "${cmd[@]}" 2>"$tmp/$label.err" &
    qemu_pid=$!
    deadline=$(( $(date +%s) + 600 ))
    until grep -qF "$marker" "$tmp/$label.log"; do
        if ! kill -0 "$qemu_pid" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
            echo "vs_qemu.sh: qemu stopped or timed out before printing $marker:" >&2
            tail -n 20 "$tmp/$label.log" "$tmp/$label.err" >&2
            exit 1
        fi
        sleep 0.02
    done
    end=$(now)
    # fields 14 and 15 of /proc/PID/stat: user and system time in clock ticks
    cpu[$label]=$(awk -v hz="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$qemu_pid/stat")
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
    wall[$label]=$(elapsed "$start" "$end")
}

# ---- 2. Linux to the init marker ----------------------------------------

if [ $linux = 1 ]; then
    echo
    echo "== Linux: fetching the guests (scripts/fetch-guests.py)"
    guests=$(python3 scripts/fetch-guests.py --quiet)
    get() { sed -n "s/^$1=//p" <<<"$guests"; }
    lkernel=$(get kernel); linitrd=$(get initramfs); marker=$(get marker)
    cmdline="console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests"
    ram_mb=256
    workload_runs=$runs
    runs=1 # minutes per run under the interpreter

    for label in interp jit; do
        if [ $label = interp ]; then flags=("${jit_off[@]}"); else flags=("${jit_on[@]}"); fi
        measure "linux-$label" 0 "$tmp/linux-$label.out" "$moon86" run "${flags[@]}" \
            benches/linux_boot.lua "$lkernel" "$linitrd" "$marker" "$cmdline" "${ram_mb}M"
        icount[linux-$label]=$(sed -n 's/^icount //p' "$tmp/linux-$label.out")
    done

    qemu_until linux-qemu "$marker" -m "$ram_mb" -kernel "$lkernel" -initrd "$linitrd" \
        -append "$cmdline"
    runs=$workload_runs
fi

# ---- 3. The Debian installer to its first screen (--installer) ----------

if [ $installer = 1 ]; then
    echo
    echo "== installer: fetching it (scripts/fetch-guests.py --installer)"
    guests=$(python3 scripts/fetch-guests.py --quiet --installer)
    get() { sed -n "s/^$1=//p" <<<"$guests"; }
    ikernel=$(get installer_linux); iinitrd=$(get installer_initrd)
    imarker=$(get installer_marker)
    workload_runs=$runs
    runs=1 # (the interpreter would take about 10 minutes: not run)
    measure installer-jit 0 "$tmp/installer-jit.out" "$moon86" run "${jit_on[@]}" \
        benches/linux_boot.lua "$ikernel" "$iinitrd" "$imarker" console=ttyS0 512M
    icount[installer-jit]=$(sed -n 's/^icount //p' "$tmp/installer-jit.out")
    qemu_until installer-qemu "$imarker" -m 512 -kernel "$ikernel" -initrd "$iinitrd" \
        -append console=ttyS0
    runs=$workload_runs
fi

# ---- the table ----------------------------------------------------------

echo
echo "== results (best of $runs for the workload; guest MIPS from moon86's instruction count)"
row() { printf '%-32s %9s %9s %12s %12s\n' "$@"; }
# line LABEL TITLE INSTRUCTIONS
line() { row "  $2" "${wall[$1]}" "${cpu[$1]}" "$(mips "$3" "${wall[$1]}")" "$(mips "$3" "${cpu[$1]}")"; }
row "workload" "wall s" "CPU s" "MIPS (wall)" "MIPS (CPU)"
line interp "moon86 ${jit_off[*]:-(default)}" "${icount[interp]}"
line jit "moon86 ${jit_on[*]:-(default)}" "${icount[jit]}"
line qemu "qemu-system-i386 -accel tcg" "${icount[interp]}"
echo "  ${icount[interp]} instructions; QEMU's times include its start and firmware"
echo "  JIT speedup over the interpreter:  $(ratio "${wall[interp]}" "${wall[jit]}")x wall, $(ratio "${cpu[interp]}" "${cpu[jit]}")x CPU"
echo "  moon86 JIT / QEMU time:            $(ratio "${wall[jit]}" "${wall[qemu]}") wall, $(ratio "${cpu[jit]}" "${cpu[qemu]}") CPU"
if [ $linux = 1 ]; then
    row "Linux to $marker" "wall s" "CPU s" "MIPS (wall)" "MIPS (CPU)"
    line linux-interp "moon86 ${jit_off[*]:-(default)}" "${icount[linux-interp]}"
    line linux-jit "moon86 ${jit_on[*]:-(default)}" "${icount[linux-jit]}"
    line linux-qemu "qemu-system-i386 -accel tcg" ""
    echo "  ${icount[linux-interp]} instructions on moon86 (${icount[linux-jit]} with the JIT); QEMU's are not counted"
    echo "  JIT speedup over the interpreter:  $(ratio "${wall[linux-interp]}" "${wall[linux-jit]}")x wall, $(ratio "${cpu[linux-interp]}" "${cpu[linux-jit]}")x CPU"
    echo "  moon86 JIT / QEMU time:            $(ratio "${wall[linux-jit]}" "${wall[linux-qemu]}") wall, $(ratio "${cpu[linux-jit]}" "${cpu[linux-qemu]}") CPU"
fi
if [ $installer = 1 ]; then
    row "Installer to '$imarker'" "wall s" "CPU s" "MIPS (wall)" "MIPS (CPU)"
    line installer-jit "moon86 ${jit_on[*]:-(default)}" "${icount[installer-jit]}"
    line installer-qemu "qemu-system-i386 -accel tcg" ""
    echo "  moon86 JIT / QEMU time:            $(ratio "${wall[installer-jit]}" "${wall[installer-qemu]}") wall, $(ratio "${cpu[installer-jit]}" "${cpu[installer-qemu]}") CPU"
fi
