//! The SDL window under Xvfb: `moon86 boot --display sdl` on
//! guests/debug/target.bin (which paints the text screen and exits, so the
//! frame stays put), the X server's pixels captured with `xwd -root`, and
//! the window's 720x540 picture compared pixel for pixel with what
//! `vm.screen:png` writes for the same guest, stretched to 4:3 as the
//! window does (output row y shows frame row y * 400 / 540). Then the same
//! with keys typed into the window by xdotool (through XTEST, as a person
//! types): the guest echoes them on screen, and the picture must equal the
//! PNG of a run given the same text with `vm.keyboard:type`. Needs the
//! `sdl` feature, Xvfb, xwd and xdotool: scripts/test.sh installs
//! libsdl2-dev, xvfb, x11-apps and xdotool and runs `cargo test --release
//! --features sdl --test sdl_window`. Missing tools fail the tests; they
//! do not skip them.
#![cfg(feature = "sdl")]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GUEST: &str = "guests/debug/target.bin";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: this test needs Debian's {package} (scripts/test.sh installs it)"
    );
}

/// Kills and reaps a child when dropped.
struct Reaped(Child);
impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An image as RGB rows.
struct Image {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

fn read_png(path: &Path) -> Image {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    Image {
        width: info.width as usize,
        height: info.height as usize,
        rgb: buf,
    }
}

/// An XWD dump (X Window Dump, version 7, ZPixmap, 24 or 32 bits per
/// pixel) as RGB.
fn parse_xwd(data: &[u8]) -> Image {
    let field = |i: usize| u32::from_be_bytes(data[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
    let header_size = field(0);
    assert_eq!(field(1), 7, "XWD version");
    assert_eq!(field(2), 2, "ZPixmap");
    let (width, height) = (field(4), field(5));
    let byte_order = field(7); // 0: LSB first
    let bits_per_pixel = field(11);
    let bytes_per_line = field(12);
    let masks = [field(14) as u32, field(15) as u32, field(16) as u32];
    let ncolors = field(19);
    let pixels = &data[header_size + ncolors * 12..];
    let bpp = bits_per_pixel / 8;
    assert!(bpp == 3 || bpp == 4, "{bits_per_pixel} bits per pixel");
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let p = &pixels[y * bytes_per_line + x * bpp..][..bpp];
            let v = p.iter().enumerate().fold(0u32, |v, (i, &b)| {
                let shift = if byte_order == 0 { i } else { bpp - 1 - i };
                v | u32::from(b) << (8 * shift)
            });
            for m in masks {
                rgb.push(((v & m) >> m.trailing_zeros()) as u8);
            }
        }
    }
    Image { width, height, rgb }
}

/// The reference: `vm.screen:png` after the guest, booted with the
/// command line `cmdline` and given `typed` on its keyboard, has run to its
/// end.
fn reference_png(dir: &Path, cmdline: &str, typed: &str) -> Image {
    let script = dir.join("shot.lua");
    let png = dir.join("screen.png");
    std::fs::write(
        &script,
        format!(
            r#"
local vm = moon86.new{{ ram_size = "128M" }}
vm:load_multiboot{{ kernel = "{GUEST}", cmdline = "{cmdline}" }}
vm:power_on()
vm.keyboard:type("{typed}")
assert(vm:run() == "exit")
vm.screen:png("{}")
"#,
            png.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .current_dir(root())
        .arg("run")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    read_png(&png)
}

fn start_xvfb() -> (Reaped, String) {
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1024x768x24", "-br"])
        .args(["-nolisten", "tcp"])
        // An X server resets when its last client leaves, and refuses
        // connections while it does: the capture loop's xwd leaving just
        // as moon86's SDL connected failed about one run in sixty with
        // "SDL: x11 not available" (the display answered a moment later).
        .arg("-noreset")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb starts");
    let mut line = String::new();
    BufReader::new(xvfb.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let display = format!(":{}", line.trim());
    assert!(line.trim().parse::<u32>().is_ok(), "Xvfb said {line:?}");
    (Reaped(xvfb), display)
}

/// The X server's root window, through xwd. xwd reads each window's
/// pixels in turn, so a window that goes away meanwhile (SDL replaces its
/// first window when it sets up its renderer) fails the capture with
/// BadDrawable or BadWindow, about one run in three hundred; such a
/// capture is taken again.
fn capture(display: &str) -> Image {
    for _ in 0..10 {
        let out = Command::new("xwd")
            .args(["-root", "-silent", "-display", display])
            .output()
            .expect("xwd runs");
        if out.status.success() {
            return parse_xwd(&out.stdout);
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("BadDrawable") || err.contains("BadWindow"),
            "xwd: {out:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("xwd failed ten times in a row: windows kept going away");
}

/// The bounding box of the pixels that are not black (the root window is).
fn window_box(img: &Image) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..img.height {
        for x in 0..img.width {
            if img.at(x, y) != [0, 0, 0] {
                (x0, y0) = (x0.min(x), y0.min(y));
                (x1, y1) = (x1.max(x + 1), y1.max(y + 1));
            }
        }
    }
    (x0 != usize::MAX).then_some((x0, y0, x1 - x0, y1 - y0))
}

/// How the window's picture differs from the reference stretched to 4:3;
/// `None` when it matches exactly.
fn difference(shot: &Image, reference: &Image) -> Option<String> {
    let (w, h) = (reference.width, reference.width * 3 / 4);
    let Some((x0, y0, bw, bh)) = window_box(shot) else {
        return Some("nothing is drawn".into());
    };
    if (bw, bh) != (w, h) {
        return Some(format!(
            "the picture is {bw}x{bh} at ({x0}, {y0}), not {w}x{h}"
        ));
    }
    let mut bad = 0;
    let mut first = None;
    for y in 0..h {
        let src_y = y * reference.height / h;
        for x in 0..w {
            let (got, want) = (shot.at(x0 + x, y0 + y), reference.at(x, src_y));
            if got != want {
                bad += 1;
                first.get_or_insert((x, y, got, want));
            }
        }
    }
    first.map(|(x, y, got, want)| {
        format!("{bad} pixels differ; the first at ({x}, {y}): {got:?}, expected {want:?}")
    })
}

/// A command line run to its end; panics with its output on failure.
fn run(cmd: &mut Command) {
    let out = cmd.output().expect("the tool runs");
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

/// Boots the guest with `--display sdl` (and `--append cmdline`) under
/// Xvfb, calls `interact` once the window shows something (with the X
/// display and the window's centre), and checks that the window's picture
/// settles on the one `vm.screen:png` writes for the same guest given
/// `typed` on its keyboard.
fn window_matches(cmdline: &str, typed: &str, interact: impl FnOnce(&str, (usize, usize))) {
    require("Xvfb", "xvfb");
    require("xwd", "x11-apps");
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "moon86-sdl-{}-{}",
        std::process::id(),
        cmdline.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let reference = reference_png(&dir, cmdline, &typed.replace('\n', "\\n"));
    assert_eq!((reference.width, reference.height), (720, 400));

    let (_xvfb, display) = start_xvfb();
    let mut moon = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .current_dir(root())
        .args([
            "boot",
            "--kernel",
            GUEST,
            "--serial",
            "none",
            "--debugcon",
            "none",
        ])
        .args(["--append", cmdline, "--display", "sdl"])
        .env("DISPLAY", &display)
        .env("SDL_VIDEODRIVER", "x11")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moon86 starts");
    let stderr = Arc::new(Mutex::new(String::new()));
    let sink = stderr.clone();
    let mut pipe = moon.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut moon = Reaped(moon);
    let start = Instant::now();
    let deadline = Duration::from_secs(30);
    let alive = |moon: &mut Reaped| {
        if let Some(status) = moon.0.try_wait().unwrap() {
            panic!(
                "moon86 ended ({status}) with the window open:\n{}",
                stderr.lock().unwrap()
            );
        }
    };

    // The window appears; then the test may type into it.
    let centre = loop {
        alive(&mut moon);
        if let Some((x, y, w, h)) = window_box(&capture(&display)) {
            break (x + w / 2, y + h / 2);
        }
        assert!(start.elapsed() < deadline, "no window appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    interact(&display, centre);

    // The guest stops; then the picture must settle on the reference.
    let mut last = String::from("the guest did not stop");
    loop {
        alive(&mut moon);
        if stderr.lock().unwrap().contains("the guest stopped") {
            match difference(&capture(&display), &reference) {
                None => break,
                Some(d) => last = d,
            }
        }
        assert!(
            start.elapsed() < deadline,
            "the window never showed the screen: {last}\nmoon86's stderr:\n{}",
            stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_window_shows_what_screen_png_writes() {
    window_matches("", "", |_, _| {});
}

#[test]
fn keys_typed_in_the_window_reach_the_guest() {
    require("xdotool", "xdotool");
    // The guest echoes the keys it reads until Enter. xdotool types
    // through the XTEST extension, as a person at the keyboard; the click
    // grabs the keyboard for the window.
    window_matches("keys", "moon86 gdb sdl\n", |display, (x, y)| {
        let xdo = |args: &[&str]| {
            run(Command::new("xdotool").args(args).env("DISPLAY", display));
        };
        xdo(&["mousemove", &x.to_string(), &y.to_string()]);
        xdo(&["click", "1"]);
        xdo(&["type", "--delay", "30", "moon86 gdb sdl"]);
        xdo(&["key", "Return"]);
    });
}

#[test]
fn an_unknown_display_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_moon86"))
        .current_dir(root())
        .args(["boot", "--kernel", GUEST, "--display", "gtk"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("none or sdl"));
}
