//! The BIOS services bootloaders use, called by our own boot sector
//! (guests/bios/services.S, an MBR that loads the rest of itself) under
//! SeaBIOS and under Bochs's BIOS with two hard disks attached: INT 13h
//! (AH=02h, 08h, 15h, 41h, 42h, 43h, 48h and two errors), INT 10h (AH=0Eh,
//! 02h, 03h, 0Fh), INT 16h (AH=00h, 01h, with keys the test types), INT 15h
//! (E820h, 88h, E801h), INT 1Ah (AH=00h, 02h, 04h) and INT 12h. The guest
//! reports each result as a line on the debug console; the test checks
//! them against values computed from the disks and the machine's
//! configuration, the screen against what INT 10h wrote, and the image
//! files against what they were (the guest's write stays in the overlay).
//! The same guest on a disk smaller than a cylinder checks the geometry a
//! BIOS derives from IDENTIFY there.

mod common;

use moon86::control::{Value, Vm};
use moon86::machine::{DriveConfig, DriveInterface, MachineConfig};
use moon86::storage::{DiskMode, MediaKind};
use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

const RAM: u64 = 48 << 20;
/// The first disk: 20 cylinders of 16 heads x 63 sectors (the guest's
/// DISK0_SECTORS).
const DISK0: u64 = 20 * 16 * 63;
/// The second disk: 600 MiB (1219 cylinders of 16 x 63 and a few sectors),
/// past 1024 cylinders, with sectors past what INT 13h's CHS calls reach
/// however translated; a sparse file.
const DISK1: u64 = 600 << 11;
/// The sectors of the second disk the guest reads or writes, tagged: the
/// last CHS sector under SeaBIOS (607/31/63 in 32 x 63) and under Bochs's
/// BIOS (608/31/63), the one the LBA read past CHS's reach, the one the
/// guest writes.
const DISK1_TAGGED: [u64; 5] = [0, 1_225_727, 1_227_743, 1_228_000, 1_228_001];

use common::Scratch;

/// What a test image's sector `lba` of disk `disk` starts with.
fn tag(disk: u8, lba: u64) -> Vec<u8> {
    format!("hd{disk} lba {lba}\0").into_bytes()
}

/// The first disk, of `sectors`: the guest in its first sectors, every
/// other sector tagged.
fn disk0_image(sectors: u64) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guest = std::fs::read(root.join("guests/bios/services.bin")).unwrap();
    assert_eq!(guest.len() % 512, 0);
    let mut image = vec![0u8; sectors as usize * 512];
    image[..guest.len()].copy_from_slice(&guest);
    for lba in (guest.len() / 512) as u64..sectors {
        let t = tag(0, lba);
        let at = lba as usize * 512;
        image[at..at + t.len()].copy_from_slice(&t);
    }
    image
}

/// Creates the second disk at `path`, sparse but for its tagged sectors.
fn make_disk1(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    f.set_len(DISK1 * 512).unwrap();
    for lba in DISK1_TAGGED {
        f.seek(SeekFrom::Start(lba * 512)).unwrap();
        f.write_all(&tag(1, lba)).unwrap();
    }
}

/// The tagged sectors of the second disk as the file holds them.
fn disk1_tags(path: &Path) -> Vec<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(path).unwrap();
    DISK1_TAGGED
        .iter()
        .map(|lba| {
            let mut b = vec![0; 512];
            f.read_exact_at(&mut b, lba * 512).unwrap();
            b
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Firmware {
    SeaBios,
    Bochs,
}

/// The guest's report, the screen at its end, and what the run left in
/// the second disk's overlay (sectors written).
struct Run {
    report: String,
    screen: Vec<String>,
    overlay_sectors: usize,
}

/// Boots the guest from the first of two disks (`image0` and the sparse
/// one) under `firmware`, types "m" and Enter when it waits for a key, and
/// runs it to its exit.
fn run(firmware: Firmware, image0: Vec<u8>) -> Run {
    let dir = Scratch::new(&format!("{firmware:?}-{}", image0.len()));
    let path0 = dir.0.join("disk0.img");
    std::fs::write(&path0, &image0).unwrap();
    let path1 = dir.0.join("disk1.img");
    make_disk1(&path1);
    let tags1 = disk1_tags(&path1);
    let mtime1 = std::fs::metadata(&path1).unwrap().modified().unwrap();

    let mut vm = Vm::new(MachineConfig {
        ram_size: RAM,
        ..Default::default()
    })
    .unwrap();
    match firmware {
        Firmware::SeaBios => vm
            .load_bios(common::guest("seabios"), Some(common::guest("vgabios")))
            .unwrap(),
        Firmware::Bochs => {
            vm.load_rom(common::guest("bochsbios")).unwrap();
            vm.load_raw(common::guest("lgplvgabios"), 0xC0000, None)
                .unwrap();
        }
    }
    for (index, path) in [(0, &path0), (1, &path1)] {
        vm.attach_drive(DriveConfig {
            interface: DriveInterface::Ide,
            index,
            media: MediaKind::Disk,
            path: Some(path.clone()),
            mode: DiskMode::Overlay,
        })
        .unwrap();
    }
    vm.set("boot_order", Value::Str("c".into())).unwrap();
    vm.power_on().unwrap();

    // Run until the guest waits for a key, type it, run to the end. The
    // slices are of virtual time: the BIOS halts while it waits, and the
    // clock must not run far ahead of the key (the guest reads the RTC
    // after it).
    let mut typed = false;
    let mut deadline = 0;
    let why = loop {
        deadline += 10_000_000;
        let why = vm.run_until(None, Some(deadline)).unwrap();
        if why.name() != "timeout" || deadline >= 60_000_000_000 {
            break why;
        }
        let text = vm.debugcon_text().unwrap();
        if !typed && text.contains("int16 00: waiting for a key") {
            vm.keyboard_type("m\n").unwrap();
            typed = true;
        }
    };
    let report = vm.debugcon_text().unwrap();
    let screen = vm.screen_text().unwrap();
    assert_eq!(why.name(), "exit", "{report}\n{}", screen.join("\n"));
    assert_eq!(vm.exit_code(), Some(1), "{report}");
    let m = vm.machine().unwrap();
    let overlay_sectors = m.ide_drive(1).unwrap().media().unwrap().overlay().len();
    assert_eq!(
        m.ide_drive(0).unwrap().media().unwrap().overlay().len(),
        0,
        "nothing written to the first disk"
    );
    drop(vm);
    // The guest's write went to the overlay, not to the file.
    assert_eq!(std::fs::read(&path0).unwrap(), image0);
    assert_eq!(std::fs::metadata(&path1).unwrap().len(), DISK1 * 512);
    assert_eq!(disk1_tags(&path1), tags1, "the second image is unchanged");
    assert_eq!(
        std::fs::metadata(&path1).unwrap().modified().unwrap(),
        mtime1
    );
    Run {
        report,
        screen,
        overlay_sectors,
    }
}

/// A report line's `name=value` fields after its key (the text before
/// ": "); `data=` takes the rest of the line.
type Fields = HashMap<String, String>;

fn fields(rest: &str) -> Fields {
    let mut out = Fields::new();
    let mut rest = rest;
    while let Some((name, after)) = rest.split_once('=') {
        let name = name.trim().to_string();
        if name == "data" {
            out.insert(name, after.to_string());
            break;
        }
        let (value, next) = after.split_once(' ').unwrap_or((after, ""));
        out.insert(name, value.to_string());
        rest = next;
    }
    out
}

struct Report<'a> {
    text: &'a str,
    lines: Vec<(&'a str, Fields)>,
}

impl<'a> Report<'a> {
    fn new(text: &'a str) -> Report<'a> {
        let lines = text
            .lines()
            .map(|l| {
                let (key, rest) = l.split_once(": ").unwrap_or((l, ""));
                (key, fields(rest))
            })
            .collect();
        Report { text, lines }
    }
    /// The fields of every line with key `key`.
    fn all(&self, key: &str) -> Vec<&Fields> {
        self.lines
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, f)| f)
            .collect()
    }
    /// The fields of the one line with key `key`.
    fn one(&self, key: &str) -> &Fields {
        let all = self.all(key);
        assert_eq!(all.len(), 1, "one line '{key}: ...' in\n{}", self.text);
        all[0]
    }
    /// Field `name` of the one line `key`.
    fn get(&self, key: &str, name: &str) -> &str {
        self.one(key)
            .get(name)
            .unwrap_or_else(|| panic!("'{key}' has no {name}= in\n{}", self.text))
    }
    fn num(&self, key: &str, name: &str) -> u64 {
        self.get(key, name).parse().unwrap()
    }
    fn hex(&self, key: &str, name: &str) -> u64 {
        u64::from_str_radix(self.get(key, name), 16).unwrap()
    }
    /// Asserts that line `key` has exactly `want`'s fields.
    fn check(&self, key: &str, want: &[(&str, &str)]) {
        for (name, value) in want {
            assert_eq!(
                self.get(key, name),
                *value,
                "'{key}' {name}= in\n{}",
                self.text
            );
        }
    }
}

/// The logical CHS geometry INT 13h AH=08h reports for a disk: cylinders,
/// heads, sectors per track.
#[derive(Debug, PartialEq)]
struct Lchs {
    cylinders: u64,
    heads: u64,
    spt: u64,
}

/// The logical geometry both BIOSes make of a disk of `sectors`: IDENTIFY's
/// 16 x 63 with its cylinders (2 to 16383), translated as CMOS 0x39 asks:
/// none within 1024 cylinders, else "large" (cylinders halved and heads
/// doubled until at most 1024 cylinders); clipped to 1024 cylinders. (The
/// test's disks are too small for LBA-assisted translation.)
fn logical_geometry(sectors: u64) -> Lchs {
    let mut cylinders = (sectors / (16 * 63)).clamp(2, 16383);
    let mut heads = 16;
    assert!(cylinders * heads <= 131_072, "no LBA-assisted translation");
    while cylinders > 1024 && heads < 128 {
        cylinders >>= 1;
        heads <<= 1;
    }
    Lchs {
        cylinders: cylinders.min(1024),
        heads,
        spt: 63,
    }
}

fn check(firmware: Firmware) {
    let run = run(firmware, disk0_image(DISK0));
    eprintln!("{firmware:?}:\n{}", run.report);
    let r = Report::new(&run.report);
    let ok = [("cf", "0"), ("ah", "00")];
    r.check("bios services", &[("boot drive", "80")]);
    r.check(
        "int13 02 80 load",
        &[("cf", "0"), ("ah", "00"), ("al", "07")],
    );

    // AH=08h. Both BIOSes take the translation from CMOS 0x39, as QEMU
    // sets it: none for the first disk (20 cylinders), "large" for the
    // second (1219 cylinders: 609 of 32 heads). SeaBIOS keeps the last
    // cylinder back ("reserved") from the maximum AH=08h reports, Bochs's
    // BIOS does not; both leave it out of AH=15h's count.
    let hidden = hidden_cylinders(firmware);
    let mut lchs = Vec::new();
    for (drive, sectors) in [("80", DISK0), ("81", DISK1)] {
        let key = format!("int13 08 {drive}");
        r.check(&key, &ok);
        r.check(&key, &[("drives", "2")]);
        let g = Lchs {
            cylinders: r.num(&key, "maxcyl") + hidden,
            heads: r.num(&key, "maxhead") + 1,
            spt: r.num(&key, "spt"),
        };
        assert_eq!(g, logical_geometry(sectors), "{key}");
        // AH=15h: a hard disk, of all but the last cylinder's sectors.
        let key = format!("int13 15 {drive}");
        r.check(&key, &[("cf", "0"), ("ah", "03")]);
        assert_eq!(
            r.num(&key, "sectors"),
            (g.cylinders - 1) * g.heads * g.spt,
            "{key}"
        );
        lchs.push(g);
    }

    // AH=02h: the sectors the logical geometry maps C/H/S to; on the
    // second disk the last one AH=08h offers.
    let last = r.one("int13 02 81 last");
    let last_chs = (
        last["c"].parse::<u64>().unwrap(),
        last["h"].parse::<u64>().unwrap(),
        last["s"].parse::<u64>().unwrap(),
    );
    assert_eq!(
        last_chs,
        (lchs[1].cylinders - hidden, lchs[1].heads - 1, lchs[1].spt)
    );
    for (disk, key, (c, h, s)) in [
        (0u8, "int13 02 80 c=2 h=3 s=5", (2, 3, 5)),
        (1, "int13 02 81 last", last_chs),
    ] {
        let g = &lchs[usize::from(disk)];
        let lba = (c * g.heads + h) * g.spt + s - 1;
        r.check(key, &ok);
        r.check(key, &[("al", "01")]);
        let want = String::from_utf8(tag(disk, lba)).unwrap();
        assert_eq!(r.get(key, "data"), want.trim_end_matches('\0'), "{key}");
    }

    // AH=41h: EDD present, with the packet calls (CX bit 0).
    for drive in ["80", "81"] {
        let key = format!("int13 41 {drive}");
        r.check(&key, &[("cf", "0"), ("bx", "AA55")]);
        assert!(r.hex(&key, "ah") >= 0x20, "{key}: EDD 2.0 or later");
        assert_eq!(r.hex(&key, "cx") & 1, 1, "{key}: packet calls");
    }

    // AH=42h: the sector AH=02h read by CHS, and one past the CHS limit.
    r.check(
        "int13 42 80 lba=2209",
        &[
            ("cf", "0"),
            ("ah", "00"),
            ("count", "1"),
            ("data", "hd0 lba 2209"),
        ],
    );
    assert_eq!(
        r.get("int13 42 80 lba=2209", "data"),
        r.get("int13 02 80 c=2 h=3 s=5", "data")
    );
    assert!(1_228_000 >= lchs[1].cylinders * lchs[1].heads * lchs[1].spt);
    const { assert!(1_228_000 < DISK1) };
    r.check(
        "int13 42 81 lba=1228000",
        &[
            ("cf", "0"),
            ("ah", "00"),
            ("count", "1"),
            ("data", "hd1 lba 1228000"),
        ],
    );

    // AH=48h: the size in sectors and the sector size.
    for (drive, sectors) in [("80", DISK0), ("81", DISK1)] {
        let key = format!("int13 48 {drive}");
        r.check(&key, &ok);
        r.check(&key, &[("bps", "512"), ("sectors", &sectors.to_string())]);
        assert!(r.num(&key, "size") >= 26, "{key}");
    }

    // AH=43h: written to the overlay and read back.
    r.check(
        "int13 43 81 lba=1228001",
        &[("cf", "0"), ("ah", "00"), ("count", "1")],
    );
    r.check(
        "int13 42 81 lba=1228001",
        &[
            ("cf", "0"),
            ("ah", "00"),
            ("count", "1"),
            ("readback", "same"),
        ],
    );
    assert_eq!(run.overlay_sectors, 1, "the write is in the overlay");

    // Errors: both BIOSes refuse with CF set; the code is theirs to pick
    // (both say 01h, "invalid parameter", today).
    for key in ["int13 42 80 lba=20160", "int13 02 80 c=1000 h=0 s=1"] {
        r.check(key, &[("cf", "1")]);
        assert_ne!(r.get(key, "ah"), "00", "{key}");
    }

    // INT 10h.
    r.check("int10 0f", &[("mode", "03"), ("cols", "80"), ("page", "0")]);
    let cursor = r.all("int10 03");
    assert_eq!(cursor.len(), 2, "{}", run.report);
    assert_eq!(
        (cursor[0]["row"].as_str(), cursor[0]["col"].as_str()),
        ("20", "10")
    );
    let text = "cursor was at 20,10";
    assert_eq!(cursor[1]["row"], "20");
    assert_eq!(cursor[1]["col"], (10 + text.len()).to_string());
    assert_eq!(
        &run.screen[20][10..10 + text.len()],
        text,
        "{:#?}",
        run.screen
    );
    assert!(
        run.screen
            .iter()
            .any(|l| l.trim_end() == "moon86 bios services"),
        "{:#?}",
        run.screen
    );

    // INT 16h: "m" (scancode 32h, 6Dh) and Enter (1Ch, 0Dh).
    r.check("int16 01 before", &[("zf", "1")]);
    let keys: Vec<&str> = r
        .all("int16 00")
        .iter()
        .filter_map(|f| f.get("ax").map(String::as_str))
        .collect();
    assert_eq!(keys, ["326D", "1C0D"], "{}", run.report);
    r.check("int16 01 after", &[("zf", "0"), ("ax", "1C0D")]);
    r.check("int16 01 empty", &[("zf", "1")]);

    // INT 15h E820h: usable RAM from 0 up to the EBDA and from 1 MiB to
    // the top of RAM; nothing usable from 0x9FC00 to 1 MiB. The reserved
    // ranges below 1 MiB differ: SeaBIOS reserves its 1 KiB EBDA at
    // 0x9FC00 and 0xF0000-0xFFFFF, Bochs's BIOS 4 KiB at 0x9F000 and
    // 0xE8000-0xFFFFF; both reserve the BIOS ROM's 256 KiB below 4 GiB.
    let e820: Vec<(u64, u64, u64)> = r
        .all("int15 e820")
        .iter()
        .filter(|f| f.contains_key("base"))
        .map(|f| {
            let h = |n: &str| u64::from_str_radix(&f[n], 16).unwrap();
            (h("base"), h("len"), f["type"].parse().unwrap())
        })
        .collect();
    assert_eq!(
        e820.len().to_string(),
        r.all("int15 e820")
            .iter()
            .find_map(|f| f.get("entries"))
            .unwrap()
            .as_str()
    );
    let usable: Vec<(u64, u64)> = e820
        .iter()
        .filter(|e| e.2 == 1)
        .map(|e| (e.0, e.0 + e.1))
        .collect();
    assert!(
        usable.iter().any(|&(s, e)| s == 0 && e >= 0x9F000),
        "{e820:x?}"
    );
    assert!(
        usable.iter().any(|&(s, e)| s == 1 << 20 && e == RAM),
        "{e820:x?}"
    );
    assert!(
        usable.iter().all(|&(s, e)| e <= 0x9FC00 || s >= 1 << 20),
        "{e820:x?}"
    );
    assert!(usable.iter().all(|&(_, e)| e <= RAM), "{e820:x?}");

    // AH=88h and E801h: the KiB above 1 MiB (from CMOS 0x30), and those
    // below 16 MiB and the 64 KiB blocks above it.
    // (AH is the result's high byte here.)
    r.check("int15 88", &[("cf", "0")]);
    assert_eq!(r.num("int15 88", "ax"), (RAM - (1 << 20)) / 1024);
    r.check("int15 e801", &[("cf", "0")]);
    r.check("int15 e801", &[("ax", "15360"), ("cx", "15360")]);
    let above16 = r.num("int15 e801", "bx");
    assert_eq!(above16, r.num("int15 e801", "dx"));
    assert!(
        above16 * 65536 <= RAM - (16 << 20) && above16 * 65536 >= RAM - (17 << 20),
        "{}",
        run.report
    );

    // INT 1Ah: the RTC starts at 2025-01-01 00:00:00; the run is short.
    r.check("int1a 04", &[("cf", "0"), ("date", "2025-01-01")]);
    r.check("int1a 02", &[("cf", "0"), ("dst", "00")]);
    let time = r.get("int1a 02", "time");
    assert!(time.starts_with("00:00:"), "{time}");
    let seconds: u64 = time[6..].parse().unwrap();
    assert!(seconds < 10, "{time}");
    let start = r.num("int1a 00", "start");
    let end = r.num("int1a 00", "end");
    assert!(end >= start + 3 && end <= start + 4, "{}", run.report);
    // 18.2 ticks a second since midnight, as the BIOS set it from the RTC.
    assert!(start <= (seconds + 2) * 182 / 10, "{}", run.report);

    // INT 12h: 639 KiB (an EBDA of 1 KiB) or 640; E820's first usable
    // range does not reach past it.
    let base = r.num("int12", "ax");
    assert!(base == 639 || base == 640, "{}", run.report);
    assert!(usable[0].1 <= base * 1024, "{e820:x?}");
    assert!(run.report.ends_with("done\n"), "{}", run.report);
}

#[test]
fn seabios_services_answer_our_boot_sector() {
    check(Firmware::SeaBios);
}

#[test]
fn bochs_bios_services_answer_our_boot_sector() {
    check(Firmware::Bochs);
}

/// How many cylinders a BIOS keeps out of the maximum AH=08h reports (see
/// `check`).
fn hidden_cylinders(firmware: Firmware) -> u64 {
    match firmware {
        Firmware::SeaBios => 2,
        Firmware::Bochs => 1,
    }
}

/// A disk smaller than one cylinder of 16 x 63 (64 sectors, as
/// tests/ata.rs uses): IDENTIFY says 2 cylinders, as QEMU does, so that
/// SeaBIOS's "maximum cylinder" (cylinders - 2) does not wrap around to
/// 1023 and offer a bootloader a 504 MiB disk. (moon86 said 1 cylinder.)
fn tiny_disk(firmware: Firmware) {
    let run = run(firmware, disk0_image(64));
    let r = Report::new(&run.report);
    r.check(
        "int13 08 80",
        &[
            ("cf", "0"),
            ("maxhead", "15"),
            ("spt", "63"),
            ("drives", "2"),
        ],
    );
    assert_eq!(
        r.num("int13 08 80", "maxcyl") + hidden_cylinders(firmware),
        2,
        "{}",
        run.report
    );
    r.check(
        "int13 15 80",
        &[("cf", "0"), ("ah", "03"), ("sectors", "1008")],
    );
    r.check("int13 48 80", &[("cf", "0"), ("sectors", "64")]);
    // Past the end of the image by CHS (inside the geometry) or by LBA.
    r.check("int13 02 80 c=2 h=3 s=5", &[("cf", "1")]);
    assert!(run.report.ends_with("done\n"), "{}", run.report);
}

#[test]
fn seabios_on_a_disk_smaller_than_a_cylinder() {
    tiny_disk(Firmware::SeaBios);
}

#[test]
fn bochs_bios_on_a_disk_smaller_than_a_cylinder() {
    tiny_disk(Firmware::Bochs);
}
