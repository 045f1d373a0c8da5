#!/usr/bin/env python3
"""Fetch the third-party guests moon86's tests boot, from Debian's archive.

Downloads (and verifies by SHA-256 against the archive's Packages index) the
i386 packages of Debian 12 "bookworm":

  linux-image-686        resolved through the meta-package to the current ABI
  linux-image-686-pae    the same version's PAE kernel (the same way)
  busybox-static         for a small initramfs
  memtest86+             its 32-bit Linux-boot-protocol image
  gnumach-image-1.8-486  a Multiboot ELF kernel
  seabios                the BIOS (bios.bin) and its ISA VGA BIOS
  bochsbios, vgabios     Bochs's BIOS and the LGPL VGA BIOS
  syslinux-common        SYSLINUX's MBR, ldlinux.c32 and the menu modules
  isolinux               ISOLINUX's El Torito boot image
  grub-rescue-pc         GRUB's rescue floppy, CD and USB (hard disk) images

extracts the files the tests need, and builds an initramfs (newc cpio, gzip)
whose /init prints a marker and runs a busybox shell on the console, and a
second one, initramfs-disk.cpio.gz, with the kernel's modules for the legacy
ISA IDE ports (pata_legacy over libata, sd_mod, sr_mod) and the vfat and
iso9660 file systems, whose /init loads them, mounts each disk and CD it finds
read-only, prints what it read from moon86.txt on each and powers off.

With --installer it also fetches debian-installer-12-netboot-i386 (about
100 MB, for benches/vs_qemu.sh --installer) and extracts the text-mode
installer's kernel and initrd as installer-linux and installer-initrd.gz.

Everything is cached under the output directory (default `.cache/guests` in the
repository): a second run downloads nothing. Only the Python standard library
is used. Usage:

  scripts/fetch-guests.py [--out DIR] [--mirror URL] [--quiet] [--installer]

It prints the paths of what it produced, one `name=path` per line, last.
"""

import argparse
import gzip
import hashlib
import io
import lzma
import os
import stat
import sys
import tarfile
import urllib.request

SUITE = "bookworm"
SYSLINUX_MBR = "/usr/lib/syslinux/mbr/mbr.bin"
SYSLINUX_MODULES = "/usr/lib/syslinux/modules/bios"
# ldlinux.c32 is SYSLINUX's core; menu.c32 its text menu, which needs the
# two libraries.
SYSLINUX_C32 = ["ldlinux.c32", "menu.c32", "libutil.c32", "libcom32.c32"]
ARCH = "i386"
INIT_MARKER = "MOON86-INIT-OK"
# The netboot installer (text mode): the files taken and their names here,
# and what its first screen says on the serial console.
INSTALLER = "debian-installer-12-netboot-i386"
INSTALLER_IMAGES = "/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386"
INSTALLER_FILES = {
    f"{INSTALLER_IMAGES}/linux": "installer-linux",
    f"{INSTALLER_IMAGES}/initrd.gz": "installer-initrd.gz",
}
INSTALLER_MARKER = "Select a language"

INIT_SCRIPT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "{INIT_MARKER}"
echo "moon86 initramfs: busybox $(busybox | head -1 | cut -d' ' -f2), kernel $(uname -r)"
exec setsid cttyhack sh
"""


# The modules the disk initramfs loads (their dependencies are found in each
# module's .modinfo: the package has no modules.dep, depmod makes it on
# install), with their parameters. pata_legacy's probe_mask=3 keeps it to the
# primary and secondary ports (without PCI it would also probe 0x1E8, 0x168,
# 0x1E0 and 0x160). nls_cp437 and nls_ascii are vfat's default code page and
# I/O character set, which the kernel would otherwise ask modprobe for.
DISK_MODULES = [
    ("sd_mod", ""),
    ("sr_mod", ""),
    ("pata_legacy", "probe_mask=3"),
    ("nls_cp437", ""),
    ("nls_ascii", ""),
    ("vfat", ""),
    ("isofs", ""),
]
DISK_MARKER = "MOON86-DISK"
DISK_FILE = "moon86.txt"
DISK_BIG_FILE = "moon86.bin"

# Each block device found gets one line `MOON86-DISK NAME SECTORS FSTYPE: TEXT`
# (FSTYPE `none` when neither file system mounts it, TEXT the file's first
# line), preceded by `MOON86-DISK-MD5 NAME SUM  -` when it holds moon86.bin (a
# file big enough for multi-sector reads), then `MOON86-DISK-DONE N` with their
# count, before the power-off.
DISK_INIT_SCRIPT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /mnt
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "{INIT_MARKER}"
while read m args; do
    insmod /lib/modules/$m.ko $args || echo "{DISK_MARKER}-INSMOD-FAILED $m"
done < /modules.list
# the SCSI scan runs asynchronously: give the block devices a moment
n=0
while [ $n -lt 50 ] && ! ls /sys/block | grep -q '^s[dr]'; do sleep 0.1; n=$((n + 1)); done
sleep 0.5
count=0
for dev in $(ls /sys/block | grep '^s[dr]'); do
    size=$(cat /sys/block/$dev/size)
    fs=none
    text=
    mkdir -p /mnt/$dev
    for t in vfat iso9660; do
        if mount -t $t -o ro /dev/$dev /mnt/$dev 2>/dev/null; then
            fs=$t
            text=$(head -n 1 /mnt/$dev/{DISK_FILE} 2>&1)
            if [ -f /mnt/$dev/{DISK_BIG_FILE} ]; then
                echo "{DISK_MARKER}-MD5 $dev $(md5sum < /mnt/$dev/{DISK_BIG_FILE})"
            fi
            umount /mnt/$dev
            break
        fi
    done
    echo "{DISK_MARKER} $dev $size $fs: $text"
    count=$((count + 1))
done
echo "{DISK_MARKER}-DONE $count"
poweroff -f
"""


def log(args, msg):
    if not args.quiet:
        print(msg, file=sys.stderr, flush=True)


def fetch(args, url, dest, sha256=None, size=None):
    """Downloads url to dest unless dest exists with the right hash."""
    if os.path.exists(dest) and (sha256 is None or file_sha256(dest) == sha256):
        log(args, f"cached      {os.path.basename(dest)}")
        return dest
    tmp = dest + ".part"
    human = f" ({size / 1e6:.1f} MB)" if size else ""
    log(args, f"downloading {url}{human}")
    try:
        with urllib.request.urlopen(url, timeout=120) as r, open(tmp, "wb") as out:
            done = 0
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if size and not args.quiet and sys.stderr.isatty():
                    print(f"\r  {done * 100 // size:3d}%", end="", file=sys.stderr, flush=True)
        if size and not args.quiet and sys.stderr.isatty():
            print(file=sys.stderr)
    except OSError as e:
        sys.exit(f"fetch-guests: cannot download {url}: {e}")
    if sha256 is not None and file_sha256(tmp) != sha256:
        os.remove(tmp)
        sys.exit(f"fetch-guests: {url} does not match the SHA-256 in the archive's index")
    os.replace(tmp, dest)
    return dest


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_packages(text):
    """The Packages index as {name: {field: value}} (first stanza wins)."""
    packages = {}
    for stanza in text.split("\n\n"):
        fields = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields:
            packages.setdefault(fields["Package"], fields)
    return packages


# Meta-packages that depend on the current ABI's kernel package.
KERNEL_META_PACKAGES = ("linux-image-686", "linux-image-686-pae")


def resolve(packages, name):
    """A package, following a meta-package's single linux-image dependency."""
    if name not in packages:
        sys.exit(f"fetch-guests: package {name} is not in {SUITE}/{ARCH}")
    pkg = packages[name]
    if name in KERNEL_META_PACKAGES:
        dep = pkg["Depends"].split(",")[0].split("(")[0].strip()
        return resolve(packages, dep)
    return pkg


def deb_member(deb_path, prefix):
    """The bytes of the ar member whose name starts with prefix."""
    with open(deb_path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            sys.exit(f"fetch-guests: {deb_path} is not a Debian package")
        while True:
            header = f.read(60)
            if len(header) < 60:
                break
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            data = f.read(size)
            if size % 2:
                f.read(1)
            if name.startswith(prefix):
                return name, data
    sys.exit(f"fetch-guests: {deb_path} has no {prefix} member")


def extract(deb_path, wanted):
    """Extracts files (paths inside the package) from a .deb's data archive."""
    name, data = deb_member(deb_path, "data.tar")
    if name.endswith(".xz"):
        data = lzma.decompress(data)
    elif name.endswith(".gz"):
        data = gzip.decompress(data)
    elif not name.endswith(".tar"):
        sys.exit(f"fetch-guests: {deb_path}: unsupported {name}")
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name.lstrip("."): m for m in tar.getmembers()}
        for path, member in members.items():
            # A symbolic link inside the package (grub-rescue-usb.img names
            # the hybrid CD image) gives its target's bytes.
            if member.issym():
                target = os.path.normpath(os.path.join(os.path.dirname(path), member.linkname))
                member = members.get(target, member)
            for want in wanted:
                if path == want or (want.endswith("*") and path.startswith(want[:-1])):
                    if member.isfile():
                        out[want] = (path, tar.extractfile(member).read())
    missing = [w for w in wanted if w not in out]
    if missing:
        sys.exit(f"fetch-guests: {deb_path} lacks {', '.join(missing)}")
    return out


def cpio_newc(entries):
    """A newc cpio archive from (path, mode, data, rdev_major, rdev_minor) tuples."""
    out = bytearray()

    def add(ino, path, mode, data=b"", major=0, minor=0):
        name = path.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(name), 0]
        out.extend(b"070701" + b"".join(b"%08X" % v for v in fields) + name)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (path, mode, data, major, minor) in enumerate(entries, start=1):
        add(ino, path, mode, data, major, minor)
    add(0, "TRAILER!!!", 0)
    return bytes(out)


def modinfo_depends(ko):
    """The module names a .ko's .modinfo says it depends on."""
    at = ko.find(b"\0depends=")
    if at < 0:
        return []
    value = ko[at + len(b"\0depends="):ko.index(b"\0", at + 1)].decode()
    return [d for d in value.split(",") if d]


def disk_modules(deb_path):
    """(name, bytes, args) of DISK_MODULES and their dependencies from the
    linux-image package, each after the modules it depends on."""
    name, data = deb_member(deb_path, "data.tar")
    if name.endswith(".xz"):
        data = lzma.decompress(data)
    norm = lambda n: n.replace("-", "_")  # the kernel treats - and _ alike
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        found = {}
        for m in tar.getmembers():
            base = os.path.basename(m.name)
            for ext in (".ko", ".ko.xz"):
                if m.isfile() and base.endswith(ext):
                    found[norm(base[:-len(ext)])] = m
        order, seen = [], set()

        def visit(mod, args):
            key = norm(mod)
            if key in seen:
                return
            seen.add(key)
            if key not in found:
                sys.exit(f"fetch-guests: {deb_path} has no module {mod}")
            member = found[key]
            ko = tar.extractfile(member).read()
            if member.name.endswith(".xz"):
                ko = lzma.decompress(ko)  # busybox's insmod takes plain ELF
            for dep in modinfo_depends(ko):
                visit(dep, "")
            order.append((key, ko, args))

        for mod, args in DISK_MODULES:
            visit(mod, args)
    return order


def build_disk_initramfs(busybox, modules, dest):
    d = stat.S_IFDIR | 0o755
    entries = [
        ("bin", d, b"", 0, 0),
        ("dev", d, b"", 0, 0),
        ("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1),
        ("dev/null", stat.S_IFCHR | 0o666, b"", 1, 3),
        ("lib", d, b"", 0, 0),
        ("lib/modules", d, b"", 0, 0),
        ("mnt", d, b"", 0, 0),
        ("proc", d, b"", 0, 0),
        ("sys", d, b"", 0, 0),
        ("bin/busybox", stat.S_IFREG | 0o755, busybox, 0, 0),
        ("bin/sh", stat.S_IFLNK | 0o777, b"busybox", 0, 0),
        ("init", stat.S_IFREG | 0o755, DISK_INIT_SCRIPT.encode(), 0, 0),
    ]
    listing = "".join(f"{name} {args}\n" for name, _, args in modules)
    entries.append(("modules.list", stat.S_IFREG | 0o644, listing.encode(), 0, 0))
    for name, ko, _ in modules:
        entries.append((f"lib/modules/{name}.ko", stat.S_IFREG | 0o644, ko, 0, 0))
    with open(dest + ".part", "wb") as f:
        f.write(gzip.compress(cpio_newc(entries), mtime=0))
    os.replace(dest + ".part", dest)


def build_initramfs(busybox, dest):
    d = stat.S_IFDIR | 0o755
    entries = [
        ("bin", d, b"", 0, 0),
        ("dev", d, b"", 0, 0),
        ("dev/console", stat.S_IFCHR | 0o600, b"", 5, 1),
        ("dev/ttyS0", stat.S_IFCHR | 0o660, b"", 4, 64),
        ("dev/null", stat.S_IFCHR | 0o666, b"", 1, 3),
        ("proc", d, b"", 0, 0),
        ("sys", d, b"", 0, 0),
        ("bin/busybox", stat.S_IFREG | 0o755, busybox, 0, 0),
        ("bin/sh", stat.S_IFLNK | 0o777, b"busybox", 0, 0),
        ("init", stat.S_IFREG | 0o755, INIT_SCRIPT.encode(), 0, 0),
    ]
    # mtime 0 in the gzip header keeps the archive byte-identical across runs.
    with open(dest + ".part", "wb") as f:
        f.write(gzip.compress(cpio_newc(entries), mtime=0))
    os.replace(dest + ".part", dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", ".cache", "guests"),
                    help="cache and output directory (default: .cache/guests)")
    ap.add_argument("--mirror", default="http://deb.debian.org/debian", help="Debian mirror")
    ap.add_argument("--quiet", action="store_true", help="print only the results")
    ap.add_argument("--installer", action="store_true",
                    help="also the Debian installer's netboot kernel and initrd (about 100 MB)")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    index = os.path.join(out, f"Packages-{SUITE}-{ARCH}.xz")
    url = f"{args.mirror}/dists/{SUITE}/main/binary-{ARCH}/Packages.xz"
    if not os.path.exists(index):
        fetch(args, url, index)
    packages = parse_packages(lzma.decompress(open(index, "rb").read()).decode("utf-8", "replace"))

    wanted = {
        "linux-image-686": ["/boot/vmlinuz-*"],
        "linux-image-686-pae": ["/boot/vmlinuz-*"],
        "busybox-static": ["/bin/busybox"],
        "memtest86+": ["/boot/memtest86+ia32.bin"],
        "gnumach-image-1.8-486": ["/boot/gnumach-1.8-486.gz"],
        "seabios": ["/usr/share/seabios/bios.bin", "/usr/share/seabios/vgabios-isavga.bin"],
        "bochsbios": ["/usr/share/bochs/BIOS-bochs-legacy"],
        "vgabios": ["/usr/share/vgabios/vgabios.bin"],
        "syslinux-common": [SYSLINUX_MBR] + [f"{SYSLINUX_MODULES}/{m}" for m in SYSLINUX_C32],
        "isolinux": ["/usr/lib/ISOLINUX/isolinux.bin"],
        "grub-rescue-pc": ["/usr/lib/grub-rescue/grub-rescue-floppy.img",
                           "/usr/lib/grub-rescue/grub-rescue-cdrom.iso",
                           "/usr/lib/grub-rescue/grub-rescue-usb.img"],
    }
    for name, files in wanted.items():
        fetch_package(args, packages, out, name, dict.fromkeys(files))

    kernel = resolve(packages, "linux-image-686")["Package"].replace("linux-image-", "vmlinuz-")
    pae = resolve(packages, "linux-image-686-pae")
    if pae["Version"] != resolve(packages, "linux-image-686")["Version"]:
        sys.exit("fetch-guests: the 686 and 686-pae kernels are of different versions")
    kernel_pae = pae["Package"].replace("linux-image-", "vmlinuz-")
    # A stable name for the current kernel, whatever its ABI version.
    link = os.path.join(out, "vmlinuz")
    if os.path.islink(link) or os.path.exists(link):
        os.remove(link)
    os.symlink(kernel, link)
    initramfs = os.path.join(out, "initramfs.cpio.gz")
    busybox = open(os.path.join(out, "busybox"), "rb").read()
    build_initramfs(busybox, initramfs)

    # The disk initramfs is rebuilt only when the kernel package, busybox or
    # what goes in changes (decompressing the kernel package takes seconds).
    initramfs_disk = os.path.join(out, "initramfs-disk.cpio.gz")
    kpkg = resolve(packages, "linux-image-686")
    kdeb = os.path.join(out, os.path.basename(kpkg["Filename"]))
    recipe = hashlib.sha256(repr((kpkg["SHA256"], hashlib.sha256(busybox).hexdigest(),
                                  DISK_MODULES, DISK_INIT_SCRIPT)).encode()).hexdigest()
    stamp = initramfs_disk + ".recipe"
    if (not os.path.exists(initramfs_disk) or not os.path.exists(stamp)
            or open(stamp).read() != recipe):
        log(args, "building    initramfs-disk.cpio.gz")
        build_disk_initramfs(busybox, disk_modules(kdeb), initramfs_disk)
        with open(stamp, "w") as f:
            f.write(recipe)

    if args.installer:
        # (The initrd stays compressed, as the installer ships it.)
        fetch_package(args, packages, out, INSTALLER, INSTALLER_FILES)

    print(f"kernel={os.path.join(out, kernel)}")
    print(f"kernel_pae={os.path.join(out, kernel_pae)}")
    print(f"initramfs={initramfs}")
    print(f"initramfs_disk={initramfs_disk}")
    print(f"memtest={os.path.join(out, 'memtest86+ia32.bin')}")
    print(f"gnumach={os.path.join(out, 'gnumach-1.8-486')}")
    print(f"seabios={os.path.join(out, 'bios.bin')}")
    print(f"vgabios={os.path.join(out, 'vgabios-isavga.bin')}")
    print(f"bochsbios={os.path.join(out, 'BIOS-bochs-legacy')}")
    print(f"lgplvgabios={os.path.join(out, 'vgabios.bin')}")
    print(f"grubfloppy={os.path.join(out, 'grub-rescue-floppy.img')}")
    print(f"syslinux_mbr={os.path.join(out, 'mbr.bin')}")
    for m in SYSLINUX_C32:
        print(f"syslinux_{m.replace('.', '_')}={os.path.join(out, m)}")
    print(f"isolinux={os.path.join(out, 'isolinux.bin')}")
    print(f"grub_cdrom={os.path.join(out, 'grub-rescue-cdrom.iso')}")
    print(f"grub_usb={os.path.join(out, 'grub-rescue-usb.img')}")
    print(f"marker={INIT_MARKER}")
    print(f"disk_marker={DISK_MARKER}")
    if args.installer:
        print(f"installer_linux={os.path.join(out, 'installer-linux')}")
        print(f"installer_initrd={os.path.join(out, 'installer-initrd.gz')}")
        print(f"installer_marker={INSTALLER_MARKER}")


def fetch_package(args, packages, out, name, files):
    """Fetches package `name` (checked by SHA-256 against the index) and
    extracts `files`, paths inside it, into `out`, once per version: each
    under the name `files` maps it to, or by default under its own name,
    decompressed when it ends in .gz."""
    pkg = resolve(packages, name)
    deb = os.path.join(out, os.path.basename(pkg["Filename"]))
    fetch(args, f"{args.mirror}/{pkg['Filename']}", deb, pkg["SHA256"], int(pkg["Size"]))
    stamp = deb + ".extracted"
    # The stamp names what was extracted: a new wanted file re-extracts.
    done = pkg["Version"] + "\n" + "\n".join(files) + "\n"
    if not os.path.exists(stamp) or open(stamp).read() != done:
        for want, (path, data) in extract(deb, list(files)).items():
            target = os.path.join(out, files[want] or os.path.basename(path))
            if files[want] is None and target.endswith(".gz"):
                data, target = gzip.decompress(data), target[:-3]
            with open(target, "wb") as f:
                f.write(data)
        with open(stamp, "w") as f:
            f.write(done)
    log(args, f"ready       {pkg['Package']} {pkg['Version']}")


if __name__ == "__main__":
    main()
