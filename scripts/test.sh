#!/usr/bin/env bash
# The whole moon86 test suite, as CI runs it. Installs what the tests need on
# a fresh Debian machine (binutils, to check the shipped guest binaries; gdb,
# for the gdb stub's tests; libsdl2-dev, xvfb, x11-apps and xdotool, for the
# SDL window),
# builds once in release mode, runs every test, then the hardware-vector
# harness over the whole single-step folder, printing its table.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
apt_updated=0
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    if [ $apt_updated = 0 ]; then $sudo apt-get update -qq; apt_updated=1; fi
    $sudo apt-get install -y -qq "$@"
}
if ! need as || ! need ld; then
    echo "== installing binutils (GNU as and ld, for guests/build.sh --check)"
    apt_install binutils
fi
if ! need gdb; then
    # tests/gdb.rs drives the gdb stub with Debian's gdb and fails without it.
    echo "== installing gdb (for tests/gdb.rs)"
    apt_install gdb || echo "!! could not install gdb: tests/gdb.rs will fail" >&2
fi

# tests/bootloaders.rs boots real bootloaders from media that
# scripts/build-bootmedia.py builds with mtools (a FAT file system inside a
# partition), syslinux (its mtools-based installer) and xorriso (the CD).
if ! need mcopy || ! need syslinux || ! need xorriso; then
    echo "== installing mtools, syslinux and xorriso (for tests/bootloaders.rs's boot media)"
    apt_install mtools syslinux xorriso
fi

# The SDL window's test (tests/sdl_window.rs) needs SDL2's development files
# to build with --features sdl, and Xvfb, xwd and xdotool to run.
if ! pkg-config --exists sdl2 2>/dev/null || ! need Xvfb || ! need xwd || ! need xdotool; then
    echo "== installing libsdl2-dev, xvfb, x11-apps and xdotool (for the SDL window's test)"
    apt_install pkg-config libsdl2-dev xvfb x11-apps xdotool
fi

echo "== clippy with the SDL window (--features sdl)"
cargo clippy --all-targets --features sdl -- -D warnings

echo "== guest binaries match their sources"
guests/build.sh --check

echo "== cargo test --release (the JIT on, the default)"
cargo test --release

echo "== the interpreter alone (MOON86_JIT=off): unit, CPU, guest and script tests again"
MOON86_JIT=off cargo test --release --lib --test cputest --test icache --test lua_scripts \
    --test cli --test captures --test workload

echo "== the SDL window under Xvfb (--features sdl)"
cargo test --release --features sdl --test sdl_window

singlestep=""
for d in "${MOON86_SINGLESTEP_DIR:-}" ../shared/testdata/singlestep /work/shared/testdata/singlestep; do
    if [ -n "$d" ] && [ -d "$d" ]; then singlestep=$d; break; fi
done
if [ -n "$singlestep" ]; then
    echo "== hardware single-step vectors: $singlestep"
    cargo run --release --example singlestep -- "$singlestep"
else
    echo "== SKIPPED hardware single-step vectors: no folder found (set MOON86_SINGLESTEP_DIR)"
fi

echo "== demo"
cargo run --release -- run examples/hello.lua
echo "== all tests passed"
