#!/usr/bin/env python3
"""Power-on to Linux's init marker through SeaBIOS and SYSLINUX from a hard
disk: moon86 against qemu-system-i386 -M isapc (TCG), in paired runs.

  benches/boot_vs_qemu.py [--runs N] [--menu-timeout T] [--jit-off] [--no-stats] [--tty]

What it runs, each as a user would type it, with the guest's serial console
on the process's stdout:

  moon86 boot -m 128M --hda DISK --serial stdio          (SeaBIOS by default)
  qemu-system-i386 -M isapc -accel tcg -cpu pentium2,-mmx,... -m 128
      -bios .cache/guests/bios.bin -hda DISK -snapshot -serial stdio
      -display none -monitor none -no-reboot

DISK is a copy of the SYSLINUX disk of scripts/build-bootmedia.py with the
menu's TIMEOUT set to T tenths of a second (default 1, the shortest
SYSLINUX takes: 0 means wait forever; 20 is the disk as built). The menu is
still loaded and drawn; only its countdown is shortened, since moon86
counts it in virtual time and QEMU in host time.

Each run is timed by the host's wall clock from just before the process is
started until the marker (MOON86-INIT-OK) is read from its stdout; the CPU
time (user + system, all threads) is read from /proc/PID/stat at that
moment; then the process is killed. The wall time to the kernel's first
line ("Linux version", printed after the firmware, SYSLINUX's loading of
the kernel and initramfs through INT 13h and the kernel's decompressor)
splits each run in two. The N runs of each are made in pairs,
alternating which emulator goes first. Printed: every run, the medians,
the ratio of the medians and the median of the pairs' ratios (moon86 /
QEMU: above 1 means moon86 is slower).

By default stdin is /dev/null and stdout a pipe, so `moon86 boot` runs
flat out. With --tty both get a pseudo-terminal, as when a person types
the command: `moon86 boot` then paces the guest so that its virtual clock
(100 M instructions per virtual second) does not run ahead of the wall
clock, which caps it at about 100 M guest instructions per second.

--jit-off adds one run of `moon86 boot --jit off` (the interpreter, about
two minutes). Unless --no-stats, one more run of benches/syslinux_boot.lua
(the same machine through the Lua API) prints the instruction count, CPU
time and the JIT's counters at the kernel's first line and at the marker;
it is not part of the comparison.

Installs qemu-system-x86 with apt-get when qemu-system-i386 is missing
(for this benchmark only; the test suite does not use QEMU). Builds moon86
with `cargo build --release`. Figures are only comparable on an otherwise
quiet machine: the load average is printed before and after.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PART_OFFSET = 2048 * 512  # the FAT partition of build-bootmedia.py's disk
# QEMU's pentium2 without what moon86's i686 does not report (src/cpu/cpuid.rs):
# both then say FPU DE PSE TSC MSR CX8 PGE CMOV, and the kernel takes the same
# paths (no MMX/FXSR, so FSAVE; no APIC, so the PIT and the 8259A).
QEMU_CPU = "pentium2,-mmx,-fxsr,-pae,-sep,-mtrr,-mce,-mca,-pat,-pse36,-apic"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def keys(out):
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def bench_disk(src, tenths, tmp):
    """A copy of the SYSLINUX disk with its menu's TIMEOUT set to tenths."""
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    dst = os.path.join(tmp, "syslinux-bench.img")
    shutil.copyfile(src, dst)
    fs = f"{dst}@@{PART_OFFSET}"
    cfg = subprocess.run(["mtype", "-i", fs, "::syslinux.cfg"], check=True,
                         capture_output=True, env=env).stdout.decode()
    lines = cfg.splitlines()
    n = sum(1 for l in lines if l.startswith("TIMEOUT "))
    if n != 1:
        sys.exit(f"boot_vs_qemu: expected one TIMEOUT line in syslinux.cfg:\n{cfg}")
    cfg = "\n".join(f"TIMEOUT {tenths}" if l.startswith("TIMEOUT ") else l for l in lines) + "\n"
    path = os.path.join(tmp, "syslinux.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    subprocess.run(["mcopy", "-o", "-i", fs, path, "::syslinux.cfg"], check=True, env=env)
    return dst


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


KERNEL = b"Linux version"  # the kernel's first line, after its decompressor


def run_to_marker(cmd, marker, timeout, log, tty=False):
    """Starts cmd, returns (wall s, CPU s, wall s to the kernel's first line)
    when marker appears on its stdout (with tty, a pseudo-terminal that is
    also its stdin and stderr)."""
    want = marker.encode()
    kernel = None
    start = time.monotonic()
    if tty:
        fd, slave = os.openpty()
        p = subprocess.Popen(cmd, cwd=ROOT, stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
    else:
        p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        fd = p.stdout.fileno()
    out = b""
    try:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the pty's other side closed
                chunk = b""
            if not chunk:
                raise RuntimeError("exited (status %s) before the marker" % p.wait())
            out += chunk
            if kernel is None and KERNEL in out:
                kernel = time.monotonic() - start
            if want in out[-(len(chunk) + len(want)):]:
                wall = time.monotonic() - start
                cpu = cpu_seconds(p.pid)
                return wall, cpu, kernel
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"no marker within {timeout} s")
    except RuntimeError as e:
        sys.stderr.write(out.decode(errors="replace")[-3000:])
        sys.exit(f"boot_vs_qemu: {' '.join(cmd)}: {e}")
    finally:
        p.kill()
        p.wait()
        if tty:
            os.close(fd)
        with open(log, "wb") as f:
            f.write(out)


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of each emulator (default 5)")
    ap.add_argument("--menu-timeout", type=int, default=1,
                    help="SYSLINUX's TIMEOUT in tenths of a second (default 1; 20 as built)")
    ap.add_argument("--jit-off", action="store_true", help="one run of moon86 --jit off too")
    ap.add_argument("--no-stats", action="store_true", help="skip the jit_stats run")
    ap.add_argument("--tty", action="store_true",
                    help="give both a pseudo-terminal, as at a person's terminal "
                         "(moon86 boot then paces virtual time to the wall clock)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run (default 600)")
    args = ap.parse_args()

    if not shutil.which("qemu-system-i386"):
        print("== installing qemu-system-x86 (for qemu-system-i386)", flush=True)
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        sh(*sudo, "apt-get", "update", "-qq")
        sh(*sudo, "apt-get", "install", "-y", "-qq", "qemu-system-x86")
    print("== building moon86 (release)", flush=True)
    sh("cargo", "build", "--release", "--quiet")
    moon86 = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                          "release", "moon86")

    guests = keys(sh(sys.executable, "scripts/fetch-guests.py", "--quiet",
                     capture_output=True, text=True).stdout)
    media = keys(sh(sys.executable, "scripts/build-bootmedia.py", "--quiet",
                    capture_output=True, text=True).stdout)
    marker = media["marker"]
    tmp = tempfile.mkdtemp(prefix="boot_vs_qemu.")
    try:
        disk = bench_disk(media["syslinux_disk"], args.menu_timeout, tmp)
        cmds = {
            "moon86": [moon86, "boot", "-m", "128M", "--hda", disk, "--serial", "stdio"],
            "qemu": ["qemu-system-i386", "-M", "isapc", "-accel", "tcg", "-cpu", QEMU_CPU,
                     "-m", "128", "-bios", guests["seabios"], "-hda", disk, "-snapshot",
                     "-serial", "stdio", "-display", "none", "-monitor", "none",
                     "-no-reboot"],
        }
        cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                          if l.startswith("model name")), "unknown")
        rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip() or "unknown"
        qver = subprocess.run(["qemu-system-i386", "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
        print("== boot_vs_qemu: power-on to %s, SeaBIOS + SYSLINUX from a hard disk" % marker)
        print(f"host CPU: {cpu_model}, {os.cpu_count()} CPUs")
        print(f"load:     {load()} (1, 5, 15 min) before")
        print(f"moon86:   {rev}")
        print(f"qemu:     {qver}")
        print(f"date:     {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
        print(f"stdio:    {'a pseudo-terminal (--tty)' if args.tty else 'stdin /dev/null, stdout a pipe'}")
        print(f"disk:     {media['syslinux_disk']} with TIMEOUT {args.menu_timeout} "
              f"({args.menu_timeout / 10:g} s menu countdown)")
        for name, cmd in cmds.items():
            print(f"$ {' '.join(cmd)}")
        print(flush=True)

        res = {"moon86": [], "qemu": []}
        for i in range(args.runs):
            order = ["moon86", "qemu"] if i % 2 == 0 else ["qemu", "moon86"]
            for name in order:
                wall, cpu, kernel = run_to_marker(cmds[name], marker, args.timeout,
                                                  os.path.join(tmp, f"{name}-{i}.log"),
                                                  args.tty)
                res[name].append((wall, cpu, kernel))
                print(f"pair {i + 1}: {name:7s} wall {wall:6.2f} s  CPU {cpu:6.2f} s  "
                      f"(wall {kernel:5.2f} s to 'Linux version', {wall - kernel:5.2f} s after)",
                      flush=True)

        print()
        print(f"{'to ' + marker:28s} {'wall s':>8s} {'CPU s':>8s}   (median of {args.runs})")
        med = {}
        for name in ("moon86", "qemu"):
            w = statistics.median(r[0] for r in res[name])
            c = statistics.median(r[1] for r in res[name])
            med[name] = (w, c)
            rng = (min(r[0] for r in res[name]), max(r[0] for r in res[name]))
            k = statistics.median(r[2] for r in res[name])
            print(f"  {name:26s} {w:8.2f} {c:8.2f}   (wall {rng[0]:.2f}-{rng[1]:.2f}; "
                  f"median {k:.2f} s to 'Linux version')")
        pw = statistics.median(m[0] / q[0] for m, q in zip(res["moon86"], res["qemu"]))
        pc = statistics.median(m[1] / q[1] for m, q in zip(res["moon86"], res["qemu"]))
        print(f"  moon86 / QEMU, medians:      {med['moon86'][0] / med['qemu'][0]:.2f} wall, "
              f"{med['moon86'][1] / med['qemu'][1]:.2f} CPU")
        print(f"  moon86 / QEMU, pair median:  {pw:.2f} wall, {pc:.2f} CPU")

        if args.jit_off:
            cmd = cmds["moon86"][:2] + ["--jit", "off"] + cmds["moon86"][2:]
            wall, cpu, _ = run_to_marker(cmd, marker, args.timeout,
                                         os.path.join(tmp, "interp.log"), args.tty)
            print(f"  {'moon86 --jit off (1 run)':26s} {wall:8.2f} {cpu:8.2f}   "
                  f"({wall / med['moon86'][0]:.1f}x the JIT's median wall)")
        print(f"load:     {load()} (1, 5, 15 min) after", flush=True)

        if not args.no_stats:
            print()
            print("== moon86 at 'Linux version' and at the marker (benches/syslinux_boot.lua)")
            out = sh(moon86, "run", "benches/syslinux_boot.lua", disk, guests["seabios"],
                     guests["vgabios"], marker, capture_output=True, text=True).stdout
            sys.stdout.write("".join("  " + l + "\n" for l in out.splitlines()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
