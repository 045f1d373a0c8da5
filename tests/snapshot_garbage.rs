//! A damaged or crafted snapshot file is an error, never a host panic, and
//! a refused restore leaves the VM as it was. Two kinds of damage, for many
//! seeds: bytes changed anywhere in the file (the checksums catch them),
//! and bytes changed inside the state with the checksum and compression
//! redone, as someone crafting a file would; a crafted state that decodes
//! and restores is then run, and the machine must not panic either.

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};
use moon86::control::{Value, Vm};
use moon86::machine::MachineConfig;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn config() -> MachineConfig {
    MachineConfig {
        ram_size: 1 << 20,
        ips: 10_000_000,
        ..Default::default()
    }
}

/// The ticker guest, run a little, saved to `path`.
fn saved_vm(path: &Path) -> Vm {
    let mut vm = Vm::new(config()).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    vm.load_boot_sector(&root.join("guests/snap/ticker.bin"))
        .unwrap();
    vm.power_on().unwrap();
    vm.run(Some(200_000)).unwrap();
    vm.save_state(path).unwrap();
    vm
}

fn observe(vm: &Vm) -> (Value, Value, Value, Vec<u8>) {
    (
        vm.get("icount").unwrap(),
        vm.get("cpu.eip").unwrap(),
        vm.get("cpu.eax").unwrap(),
        vm.serial_text().unwrap(),
    )
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("moon86-{}-{name}", std::process::id()))
}

/// The file split into (header up to the state's length, state length,
/// inflated state).
fn split(file: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let config_len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
    let state_at = 20 + config_len;
    let mut state = Vec::new();
    ZlibDecoder::new(&file[state_at + 12..])
        .read_to_end(&mut state)
        .unwrap();
    (file[..state_at].to_vec(), state)
}

fn join(header: &[u8], state: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend_from_slice(&(state.len() as u64).to_le_bytes());
    let mut crc = Crc::new();
    crc.update(state);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    let mut z = ZlibEncoder::new(out, Compression::fast());
    z.write_all(state).unwrap();
    z.finish().unwrap()
}

#[test]
fn damaged_files_are_refused_and_change_nothing() {
    let good_path = tmp("good.snap");
    let bad_path = tmp("bad.snap");
    let mut vm = saved_vm(&good_path);
    let saved = observe(&vm);
    vm.run(Some(1000)).unwrap();
    let before = observe(&vm);
    let good = std::fs::read(&good_path).unwrap();
    let (header, state) = split(&good);
    assert_eq!(
        join(&header, &state).len(),
        good.len(),
        "the split is right"
    );

    let mut rng = Rng(0x5EED);
    for round in 0..400 {
        let mut file = good.clone();
        match round % 3 {
            0 => file.truncate(rng.below(good.len())),
            _ => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(file.len());
                    file[i] ^= 1 << rng.below(8);
                }
            }
        }
        std::fs::write(&bad_path, &file).unwrap();
        let Err(e) = vm.restore_state(&bad_path) else {
            // Only a change the format does not read can pass (the padding
            // bits after the last deflate block): the state must be intact.
            assert_eq!(
                observe(&vm),
                saved,
                "round {round}: accepted a changed state"
            );
            vm.run(Some(1000)).unwrap();
            continue;
        };
        let e = e.to_string();
        assert!(
            ["truncated", "corrupt", "version", "not a moon86 snapshot"]
                .iter()
                .any(|w| e.contains(w)),
            "round {round}: {e}"
        );
        assert_eq!(observe(&vm), before, "round {round}: the VM changed");
    }
    let _ = std::fs::remove_file(&good_path);
    let _ = std::fs::remove_file(&bad_path);
}

#[test]
fn crafted_states_never_panic() {
    let good_path = tmp("good2.snap");
    let bad_path = tmp("crafted.snap");
    let mut vm = saved_vm(&good_path);
    let good = std::fs::read(&good_path).unwrap();
    let (header, state) = split(&good);
    let mut rng = Rng(0xC0FFEE);
    let (mut refused, mut restored) = (0, 0);
    for _ in 0..1500 {
        let mut s = state.clone();
        for _ in 0..1 + rng.below(3) {
            // Mostly in the CPU and devices at the front; RAM data is plain bytes.
            let i = rng.below(s.len().min(12_000));
            s[i] = rng.next() as u8;
        }
        std::fs::write(&bad_path, join(&header, &s)).unwrap();
        match vm.restore_state(&bad_path) {
            Err(_) => refused += 1,
            Ok(()) => {
                restored += 1;
                // Whatever it decoded to, the machine runs without panicking.
                let _ = vm.run(Some(20_000));
                let _ = vm.screen_text();
            }
        }
    }
    eprintln!("crafted states: {refused} refused, {restored} restored and run");
    assert!(
        refused > 0 && restored > 0,
        "{refused} refused, {restored} restored"
    );
    let _ = std::fs::remove_file(&good_path);
    let _ = std::fs::remove_file(&bad_path);
}

#[test]
fn an_oversized_snapshot_is_refused_from_its_size() {
    let path = tmp("huge.snap");
    let mut vm = saved_vm(&path);
    let before = observe(&vm);
    // A real snapshot with 6 GiB of sparse zeros after it.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(6 << 30))
        .unwrap();
    let t = std::time::Instant::now();
    let e = vm.restore_state(&path).unwrap_err().to_string();
    assert!(t.elapsed().as_millis() < 500, "took {:?}", t.elapsed());
    assert!(
        e.starts_with(&format!(
            "'{}' is not a snapshot this VM can use: it is 6442450944 bytes, more than a snapshot of a machine with 1048576 bytes of RAM can be (",
            path.display()
        )),
        "{e}"
    );
    assert_eq!(observe(&vm), before);
    std::fs::remove_file(&path).unwrap();
}
