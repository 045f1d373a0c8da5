#!/usr/bin/env python3
"""Times each phase of a benchmark kernel that prints one line per phase
on its serial port (guests/bench/compiled.bin: a header line, then
"phase N name checksum X" lines), on moon86 and on qemu-system-i386 (TCG)
run the same way: the serial port on stdout, each line stamped by this
script as it arrives, a phase's time being from the line before it to its
own. Start-up (QEMU's firmware, loading the image) falls before the header
and is not counted. Runs each emulator --runs times, alternating, keeps
each phase's best time, checks that all printed the same lines, and prints
a table with the ratio moon86 / QEMU per phase and for the total.

With --hooks, moon86 also runs the kernel through
benches/compiled_hooks.lua with hooks that never fire (100 execute hooks
and a write watch; an I/O hook on a port the guest never touches; an
execute hook on the page of the hot code; a write hook on the top of the
stack whose value filter no write passes), and the table gives each one's
time over the plain JIT's, run the same way.

  benches/phase_times.py [--runs N] [--moon86 PATH] [--no-qemu] [--interp] [--hooks] [KERNEL]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time


def timed_lines(cmd):
    """Runs `cmd`; returns its stdout lines that follow the header (the
    first line), each with the seconds since the line before it."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, last = [], None
    for line in proc.stdout:
        now = time.monotonic()
        line = line.rstrip("\n")
        if last is not None and line.startswith("phase "):
            lines.append((line, now - last))
        last = now
    err = proc.stderr.read()
    proc.wait()
    if not lines:
        sys.exit(f"phase_times.py: no phase lines from {' '.join(cmd)}:\n{err}")
    return lines


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kernel", nargs="?", default=os.path.join(root, "guests/bench/compiled.bin"))
    ap.add_argument("--runs", type=int, default=3, help="runs of each emulator (best kept)")
    ap.add_argument("--moon86", default=os.path.join(root, "target/release/moon86"))
    ap.add_argument("--no-qemu", action="store_true", help="time moon86 alone")
    ap.add_argument("--interp", action="store_true", help="also time moon86 --jit off (slow)")
    ap.add_argument("--hooks", action="store_true",
                    help="also time the JIT with idle hooks (benches/compiled_hooks.lua)")
    a = ap.parse_args()

    emulators = {"jit": [a.moon86, "--jit", "on", "boot", "--kernel", a.kernel, "-m", "64M",
                         "--serial", "stdio"]}
    hooked = []
    if a.hooks:
        script = os.path.join(here, "compiled_hooks.lua")
        emulators["jit"] = [a.moon86, "run", script, a.kernel, "none"]
        # (0x100030: the HLT after `call kmain` in compiled.bin, never
        # reached as the guest leaves through the exit port; on the page
        # that holds every phase's code.)
        for mode, extra in (("exec100", []), ("io", []), ("hotpage", ["0x100030"]),
                            ("filtered", [])):
            emulators[mode] = [a.moon86, "run", script, a.kernel, mode] + extra
            hooked.append(mode)
    if a.interp:
        emulators["interp"] = [a.moon86, "--jit", "off"] + emulators["jit"][3:]
    if not a.no_qemu:
        if not shutil.which("qemu-system-i386"):
            sys.exit("phase_times.py: qemu-system-i386 is missing (apt-get install qemu-system-x86)")
        emulators["qemu"] = ["qemu-system-i386", "-accel", "tcg", "-m", "64", "-display", "none",
                             "-monitor", "none", "-no-reboot", "-serial", "stdio",
                             "-kernel", a.kernel, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]

    best, printed = {}, {}
    for _ in range(a.runs):
        for name, cmd in emulators.items():
            lines = timed_lines(cmd)
            printed.setdefault(name, [text for text, _ in lines])
            if [text for text, _ in lines] != printed[name] or printed[name] != printed["jit"]:
                sys.exit(f"phase_times.py: {name} printed other lines:\n"
                         + "\n".join(text for text, _ in lines))
            times = [t for _, t in lines]
            best[name] = [min(x, y) for x, y in zip(best.get(name, times), times)]

    names = list(emulators)
    width = {n: max(10, len(n) + 4) for n in names}
    head = f"{'phase':<28}" + "".join(f"{n + ' s':>{width[n]}}" for n in names)
    if "qemu" in best:
        head += f"{'jit/qemu':>10}"
    head += "".join(f"{m + '/jit':>14}" for m in hooked)
    print(f"best of {a.runs} runs; seconds per phase, from the line before it")
    print(head)
    rows = [(text.split(" checksum")[0], i) for i, text in enumerate(printed["jit"])]
    for label, i in rows + [("total", None)]:
        cells = []
        for n in names:
            cells.append(sum(best[n]) if i is None else best[n][i])
        line = f"{label:<28}" + "".join(f"{c:>{width[n]}.3f}" for n, c in zip(names, cells))
        if "qemu" in best:
            j, q = cells[names.index("jit")], cells[names.index("qemu")]
            line += f"{j / q:>10.2f}" if q > 0 else f"{'-':>10}"
        for m in hooked:
            h, j = cells[names.index(m)], cells[names.index("jit")]
            line += f"{h / j:>14.3f}" if j > 0 else f"{'-':>14}"
        print(line)


if __name__ == "__main__":
    main()
