#!/usr/bin/env python3
"""Build boot media with real third-party bootloaders for moon86's tests.

From the guests `scripts/fetch-guests.py` fetched (Debian's i386 kernel, the
busybox initramfs, SYSLINUX and ISOLINUX from Debian's archive) it builds:

  syslinux_disk  a hard disk image: SYSLINUX's MBR and one active FAT16
                 partition holding ldlinux.sys, its modules, syslinux.cfg
                 (a menu of two entries, the first booted after 2 seconds),
                 the kernel and the initramfs
  isolinux_cd    an El Torito CD (no emulation, boot-load-size 4, boot info
                 table) with ISOLINUX and the same menu, kernel and initramfs

The host tools are mtools (mformat, mcopy), syslinux (the mtools-based
installer) and xorriso; scripts/test.sh installs them. The partition table
is written here. Timestamps, volume serials and labels are fixed, so the
same inputs give byte-identical images. The images are cached under
`.cache/bootmedia`, named by a hash of their inputs (the files, this
script's text and the tools' versions), and rebuilt when an input changes.

  scripts/build-bootmedia.py [--out DIR] [--quiet]

It prints the paths, one `name=path` per line, last (and `marker=`, the text
the initramfs prints on the serial port).
"""

import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# 2025-01-01 00:00:00 UTC, moon86's default RTC time: every timestamp in
# the images.
EPOCH = 1735689600
DISK_SECTORS = 64 * 2048  # 64 MiB
PART_START = 2048  # 1 MiB aligned, as fdisk does
# The kernel command line moon86's Linux tests use (tests/guests/linux.lua).
CMDLINE = "console=ttyS0 i8042.noaux tsc=reliable cryptomgr.notests"
MODULES = ["ldlinux.c32", "menu.c32", "libutil.c32", "libcom32.c32"]


def config(kernel, initrd):
    """syslinux.cfg / isolinux.cfg: a menu of two Linux entries."""
    return f"""UI menu.c32
PROMPT 0
TIMEOUT 20
MENU TITLE moon86 boot menu
DEFAULT linux

LABEL linux
  MENU LABEL Debian Linux on the serial console
  KERNEL {kernel}
  INITRD {initrd}
  APPEND {CMDLINE}

LABEL quiet
  MENU LABEL Debian Linux, quiet
  KERNEL {kernel}
  INITRD {initrd}
  APPEND {CMDLINE} quiet moon86.entry=quiet
"""


def log(args, msg):
    if not args.quiet:
        print(msg, file=sys.stderr, flush=True)


def run(*cmd, **kw):
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), TZ="UTC", MTOOLS_SKIP_CHECK="1")
    try:
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, **kw)
    except FileNotFoundError:
        sys.exit(f"build-bootmedia: {cmd[0]} is missing (apt-get install mtools syslinux xorriso)")
    except subprocess.CalledProcessError as e:
        sys.exit(f"build-bootmedia: {' '.join(cmd)} failed:\n{e.stderr.decode(errors='replace')}")


def tool_version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True)
        return (r.stdout + r.stderr).decode(errors="replace").splitlines()[:1]
    except FileNotFoundError:
        return ["missing"]


def guests(args):
    r = subprocess.run([sys.executable, os.path.join(HERE, "fetch-guests.py")]
                       + (["--quiet"] if args.quiet else []),
                       stdout=subprocess.PIPE)
    if r.returncode:
        sys.exit("build-bootmedia: scripts/fetch-guests.py failed")
    return dict(l.split("=", 1) for l in r.stdout.decode().splitlines() if "=" in l)


def stage(files, stamp_dir):
    """Copies files into stamp_dir with the fixed timestamp."""
    for name, src in files.items():
        dst = os.path.join(stamp_dir, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        os.utime(dst, (EPOCH, EPOCH))
    for d, _, _ in os.walk(stamp_dir):
        os.utime(d, (EPOCH, EPOCH))


def chs(lba, heads=16, sectors=63):
    """An MBR CHS triple (bytes) for lba, saturated past cylinder 1023."""
    c, rest = divmod(lba, heads * sectors)
    if c > 1023:
        return bytes([0xFE, 0xFF, 0xFF])
    h, s = divmod(rest, sectors)
    return bytes([h, ((c >> 2) & 0xC0) | (s + 1), c & 0xFF])


def mbr(boot_code, start, count):
    """SYSLINUX's MBR code, a disk signature, one active FAT16 partition."""
    sector = bytearray(512)
    sector[: len(boot_code)] = boot_code
    sector[440:444] = struct.pack("<I", 0x4D4F4F4E)  # "NOOM"
    entry = (bytes([0x80]) + chs(start) + bytes([0x06]) + chs(start + count - 1)
             + struct.pack("<II", start, count))
    sector[446:462] = entry
    sector[510:512] = b"\x55\xAA"
    return bytes(sector)


def build_disk(g, dest, tmp):
    part_sectors = DISK_SECTORS - PART_START
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(DISK_SECTORS * 512)
    fs = f"{img}@@{PART_START * 512}"
    run("mformat", "-i", fs, "-T", str(part_sectors), "-h", "16", "-s", "63",
        "-H", str(PART_START), "-N", "4d4f4f4e", "-v", "MOON86", "-c", "4", "::")
    # The installer writes ldlinux.sys (and its own ldlinux.c32, replaced
    # below by the fetched one of the same SYSLINUX version).
    run("syslinux", "--offset", str(PART_START * 512), "--install", img)
    files = {name: g[f"syslinux_{name.replace('.', '_')}"] for name in MODULES}
    files["vmlinuz"] = g["kernel"]
    files["initrd.gz"] = g["initramfs"]
    root = os.path.join(tmp, "disk-root")
    stage(files, root)
    cfg = os.path.join(root, "syslinux.cfg")
    with open(cfg, "w") as f:
        f.write(config("/vmlinuz", "/initrd.gz"))
    os.utime(cfg, (EPOCH, EPOCH))
    for name in sorted(os.listdir(root)):
        run("mcopy", "-o", "-m", "-i", fs, os.path.join(root, name), "::" + name)
    with open(img, "r+b") as f:
        f.write(mbr(open(g["syslinux_mbr"], "rb").read()[:440], PART_START, part_sectors))
    os.replace(img, dest)


def build_cd(g, dest, tmp):
    files = {f"isolinux/{name}": g[f"syslinux_{name.replace('.', '_')}"] for name in MODULES}
    files["isolinux/isolinux.bin"] = g["isolinux"]
    files["vmlinuz"] = g["kernel"]
    files["initrd.gz"] = g["initramfs"]
    root = os.path.join(tmp, "cd-root")
    stage(files, root)
    cfg = os.path.join(root, "isolinux", "isolinux.cfg")
    with open(cfg, "w") as f:
        f.write(config("/vmlinuz", "/initrd.gz"))
    os.utime(cfg, (EPOCH, EPOCH))
    os.utime(os.path.join(root, "isolinux"), (EPOCH, EPOCH))
    iso = os.path.join(tmp, "cd.iso")
    run("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-R", "-J", "-V", "MOON86",
        "--modification-date=2025010100000000",
        "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
        "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", root)
    os.replace(iso, dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", ".cache", "bootmedia"),
                    help="cache and output directory (default: .cache/bootmedia)")
    ap.add_argument("--quiet", action="store_true", help="print only the results")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    g = guests(args)

    # Everything an image is made of, hashed: a change rebuilds it.
    h = hashlib.sha256(open(os.path.abspath(__file__), "rb").read())
    for key in ["kernel", "initramfs", "syslinux_mbr", "isolinux"] + [
            f"syslinux_{m.replace('.', '_')}" for m in MODULES]:
        h.update(key.encode() + b"\0" + open(g[key], "rb").read())
    for cmd in (["mformat", "--version"], ["syslinux", "--version"], ["xorriso", "-version"]):
        h.update("\n".join(tool_version(cmd)).encode())
    tag = h.hexdigest()[:16]

    results = {}
    for name, build, ext in [("syslinux_disk", build_disk, "img"), ("isolinux_cd", build_cd, "iso")]:
        dest = os.path.join(out, f"{name}-{tag}.{ext}")
        if os.path.exists(dest):
            log(args, f"cached      {os.path.basename(dest)}")
        else:
            log(args, f"building    {os.path.basename(dest)}")
            with tempfile.TemporaryDirectory(dir=out) as tmp:
                build(g, dest, tmp)
            # Older builds of this image go.
            for old in os.listdir(out):
                if old.startswith(name + "-") and old != os.path.basename(dest):
                    os.remove(os.path.join(out, old))
        results[name] = dest

    for name, path in results.items():
        print(f"{name}={path}")
    print(f"marker={g['marker']}")


if __name__ == "__main__":
    main()
