//! Captures through the control API, checked by decoding what was written:
//! the PNG's size and the colours of a known character cell, `regs.json`
//! parsed as JSON, a bundle's exact file list, and nothing left behind by a
//! capture that failed.

use moon86::control::{CaptureSpec, ControlError, Value, Vm};
use moon86::machine::MachineConfig;
use std::path::{Path, PathBuf};

const BLUE: [u8; 3] = [0x00, 0x00, 0xAA];
const WHITE: [u8; 3] = [0xFF, 0xFF, 0xFF];

fn vm() -> Vm {
    let mut vm = Vm::new(MachineConfig {
        ram_size: 1 << 20,
        ..MachineConfig::default()
    })
    .unwrap();
    vm.power_on().unwrap();
    vm
}

/// A fresh scratch directory, removed when dropped.
struct Scratch(PathBuf);
impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("moon86-captures-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Width, height and RGB pixels of a PNG file.
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixel(rgb: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
    let at = ((y * width + x) * 3) as usize;
    [rgb[at], rgb[at + 1], rgb[at + 2]]
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn screen_png_shows_a_white_a_on_blue() {
    let scratch = Scratch::new("png");
    std::fs::create_dir_all(&scratch.0).unwrap();
    let mut vm = vm();
    vm.mem_write(0xB8000, b"A\x1F").unwrap();
    let path = scratch.0.join("screen.png");
    vm.screen_png(&path).unwrap();
    let (w, h, rgb) = decode(&path);
    assert_eq!((w, h), (720, 400));
    assert_eq!(pixel(&rgb, w, 0, 0), BLUE, "background above the glyph");
    assert_eq!(pixel(&rgb, w, 8, 6), BLUE, "the ninth column");
    let white = (0..16)
        .flat_map(|y| (0..9).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel(&rgb, w, x, y) == WHITE)
        .count();
    // The glyph's strokes, plus the cursor's two scan lines at 0,0.
    assert!(white > 30, "{white} white pixels in the first cell");
    assert_eq!(pixel(&rgb, w, 3, 7), WHITE, "the bar of the A");
    assert_eq!(pixel(&rgb, w, 9, 0), [0, 0, 0], "cell 1 is attribute 0");
    // A failed write leaves no file and no temporary behind.
    let bad = scratch.0.join("missing/screen.png");
    assert!(matches!(
        vm.screen_png(&bad),
        Err(ControlError::WriteFile { .. })
    ));
    assert_eq!(names(&scratch.0), ["screen.png"]);
}

#[test]
fn bundle_holds_what_was_asked() {
    let scratch = Scratch::new("bundle");
    let mut vm = vm();
    vm.mem_write(0x5000, b"moon86 capture").unwrap();
    vm.set("cpu.eip", Value::Int(0x1234)).unwrap();
    let mut spec = CaptureSpec::new(&scratch.0);
    spec.ram = vec![(0x5000, 0x500E), (0, 0x100)];
    let bundle = vm.capture(&spec).unwrap();
    assert_eq!(bundle, scratch.0.join("capture-000000000000"));
    assert_eq!(
        names(&bundle),
        [
            "ram-00000000-00000100.bin",
            "ram-00005000-0000500e.bin",
            "regs.json",
            "screen.png",
            "serial.log"
        ]
    );
    assert_eq!(
        std::fs::read(bundle.join("ram-00005000-0000500e.bin")).unwrap(),
        b"moon86 capture"
    );
    let regs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("regs.json")).unwrap()).unwrap();
    assert_eq!(regs["eip"], 0x1234);
    assert_eq!(regs["mode"], "real");
    assert_eq!(regs["segs"]["cs"]["selector"], regs["cs"]);
    assert_eq!(decode(&bundle.join("screen.png")).0, 720);

    let again = vm.capture(&CaptureSpec::new(&scratch.0)).unwrap();
    assert_eq!(again, scratch.0.join("capture-000000000000-2"));
    assert_eq!(names(&again), ["regs.json", "screen.png", "serial.log"]);
}

#[test]
fn failed_captures_leave_nothing_behind() {
    let scratch = Scratch::new("failed");
    let vm = vm();
    let bad = |ram: Vec<(u64, u64)>| {
        let mut spec = CaptureSpec::new(&scratch.0);
        spec.ram = ram;
        vm.capture(&spec).unwrap_err().to_string()
    };
    assert_eq!(
        bad(vec![(0x2000, 0x1000)]),
        "bad RAM range {0x2000, 0x1000}: the end must be greater than the start \
         (ranges are {start, end}, end exclusive)"
    );
    assert!(bad(vec![(0, 0x10), (0xFFFFF, 0x100001)]).starts_with(
        "bad RAM range {0xfffff, 0x100001}: range 0xfffff..0x100001 (2 bytes) is outside guest memory"
    ));
    // 4097 copies of the whole 1 MiB: each range is fine, the total is not.
    assert!(bad(vec![(0, 0x10_0000); 4097])
        .contains("the ranges add up to more than the 4294967296 bytes one capture may hold"));
    assert!(
        !scratch.0.exists(),
        "ranges are checked before anything is created"
    );

    std::fs::create_dir_all(&scratch.0).unwrap();
    let file = scratch.0.join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = vm
        .capture(&CaptureSpec::new(file.join("sub")))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "cannot write the capture bundle in '{}' (creating the directory):",
            file.join("sub").display()
        )),
        "{err}"
    );
    assert_eq!(names(&scratch.0), ["plain-file"]);
    // The VM is unharmed.
    assert!(vm.capture(&CaptureSpec::new(&scratch.0)).is_ok());
    assert_eq!(names(&scratch.0), ["capture-000000000000", "plain-file"]);
}

/// Makes a character device node; false when not allowed (not root).
fn mknod_char(path: &Path, major: u32, minor: u32) -> bool {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe {
        libc::mknod(
            c.as_ptr(),
            libc::S_IFCHR | 0o666,
            libc::makedev(major, minor),
        ) == 0
    }
}

fn kind(path: &Path) -> std::fs::FileType {
    std::fs::symlink_metadata(path).unwrap().file_type()
}

#[test]
fn saved_files_write_through_devices_fifos_and_symlinks() {
    use std::os::unix::fs::{symlink, FileTypeExt};
    let s = Scratch::new("special");
    std::fs::create_dir_all(&s.0).unwrap();
    let vm = vm();

    // A symlink: the target changes, the link stays a link.
    let target = s.0.join("target.bin");
    std::fs::write(&target, b"old").unwrap();
    let link = s.0.join("link.bin");
    symlink(&target, &link).unwrap();
    vm.mem_dump(0, 16, &link).unwrap();
    assert!(kind(&link).is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), vec![0u8; 16]);
    vm.screen_png(&link).unwrap();
    assert!(kind(&link).is_symlink());
    assert_eq!(&std::fs::read(&target).unwrap()[1..4], b"PNG");

    // A FIFO: a reader gets the snapshot, the FIFO stays.
    let fifo = s.0.join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    vm.save_state(&fifo).unwrap();
    let got = reader.join().unwrap();
    assert_eq!(&got[..8], b"MOON86SS");
    assert!(kind(&fifo).is_fifo());

    // Device nodes (root only): a null device takes the data, a full one
    // fails with ENOSPC, and both stay devices.
    let null = s.0.join("null");
    let full = s.0.join("full");
    if !mknod_char(&null, 1, 3) || !mknod_char(&full, 1, 7) {
        eprintln!("device nodes skipped: mknod needs root");
        return;
    }
    vm.mem_dump(0, 4096, &null).unwrap();
    vm.screen_png(&null).unwrap();
    vm.save_state(&null).unwrap();
    assert!(kind(&null).is_char_device());
    let e = vm.mem_dump(0, 4096, &full).unwrap_err();
    assert!(matches!(e, ControlError::WriteFile { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("cannot write '{}'", full.display()))
            && msg.contains("No space left on device"),
        "{msg}"
    );
    let e = vm.save_state(&full).unwrap_err().to_string();
    assert!(e.contains("No space left on device"), "{e}");
    assert!(kind(&full).is_char_device());
    let mut left = names(&s.0);
    left.sort();
    assert_eq!(left, ["fifo", "full", "link.bin", "null", "target.bin"]);
}
