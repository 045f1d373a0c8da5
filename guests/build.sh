#!/usr/bin/env bash
# Rebuilds the guest programs moon86 ships (guests/*/*.S -> .bin) with GNU
# binutils, each linked as a flat binary at 0x7C00, or at the address a
# source names on a line of its own, `# link: 0x100000` (a Multiboot kernel
# loads at 1 MiB): boot sectors pad themselves to 512 bytes in their source
# (bios/services.S to 8 sectors: an MBR that loads the rest of itself), the
# CPU test guests under cputest/ are of any size (loaded with load_raw)
# and share cputest/lib.inc (`.include` looks in the source's directory).
# The C guests (guests/*/*.c, freestanding) are compiled by the
# distribution's gcc for i686 and linked the same way; since another gcc
# makes other code, each names the gcc version that built its committed
# binary on a line `gcc: 12.2.0`, and --check compares only with that
# version (and says it skipped otherwise).
# With --check, builds into a temporary directory and fails if any committed
# binary differs from what its source assembles to.
set -euo pipefail
cd "$(dirname "$0")"
check=0
[ "${1:-}" = "--check" ] && check=1
command -v as >/dev/null && command -v ld >/dev/null || {
    echo "guests/build.sh: GNU as and ld are needed (Debian package binutils)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
# finish SRC NAME OUT VERB: with --check, compares OUT with the committed
# NAME.bin; otherwise installs it there.
finish() {
    local src=$1 name=$2 out=$3 verb=$4
    if [ $check = 1 ]; then
        if cmp -s "$out" "$name.bin"; then
            echo "ok       $name.bin matches $src"
        else
            echo "MISMATCH $name.bin differs from what $src $verb (run guests/build.sh)" >&2
            status=1
        fi
    else
        cp "$out" "$name.bin"
        echo "built    $name.bin ($(stat -c %s "$name.bin") bytes)"
    fi
}
for src in */*.S; do
    name=${src%.S}
    obj="$tmp/$(basename "$name").o"
    out="$tmp/$(basename "$name").bin"
    as --32 -I "$(dirname "$src")" -o "$obj" "$src"
    link=$(sed -n 's/^# link: *\(0x[0-9a-fA-F]*\) *$/\1/p' "$src" | head -n 1)
    ld -m elf_i386 -Ttext "${link:-0x7c00}" -e _start --oformat binary -o "$out" "$obj"
    finish "$src" "$name" "$out" "assembles to"
done
for src in */*.c; do
    [ -e "$src" ] || continue
    name=${src%.c}
    obj="$tmp/$(basename "$name").o"
    out="$tmp/$(basename "$name").bin"
    want=$(sed -n 's/^ *\** *gcc: *\([0-9.]*\) *$/\1/p' "$src" | head -n 1)
    have=$(gcc -dumpfullversion 2>/dev/null || echo none)
    if [ "$want" != "$have" ]; then
        if [ $check = 1 ]; then
            echo "skipped  $name.bin: built by gcc $want, this machine has gcc $have"
            continue
        fi
        echo "note: $src names gcc $want, building with gcc $have (update its gcc: line)" >&2
    fi
    gcc -m32 -march=i686 -O2 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
        -fno-asynchronous-unwind-tables -fcf-protection=none -fno-toplevel-reorder \
        -fno-reorder-functions -fno-tree-loop-distribute-patterns -c -o "$obj" "$src"
    link=$(sed -n 's/^.*link: *\(0x[0-9a-fA-F]*\) *$/\1/p' "$src" | head -n 1)
    # -N: data right after the code, so the image ends at _edata.
    ld -m elf_i386 -N -Ttext "${link:-0x7c00}" -e _start --oformat binary -o "$out" "$obj"
    finish "$src" "$name" "$out" "compiles to"
done
exit $status
