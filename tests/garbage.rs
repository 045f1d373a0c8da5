//! A guest that executes garbage gets guest exceptions, never a host panic:
//! random bytes at random places with random registers, run through the whole
//! stack (control API, run loop, CPU, bus) for many seeds.

use moon86::control::{Value, Vm};
use moon86::machine::MachineConfig;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_code_never_panics_the_host() {
    let regs = [
        "cpu.eax", "cpu.ebx", "cpu.ecx", "cpu.edx", "cpu.esi", "cpu.edi", "cpu.ebp", "cpu.esp",
    ];
    for seed in 1..=1500u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut vm = Vm::new(MachineConfig {
            ram_size: 1 << 20,
            ..Default::default()
        })
        .unwrap();
        let mut junk = vec![0u8; 4096];
        for b in junk.iter_mut() {
            *b = rng.next() as u8;
        }
        let at = (rng.next() % 0xF_0000) & !0xF;
        vm.mem_write(at, &junk).unwrap();
        // Sometimes a random IVT too, so exceptions land in more garbage.
        if seed % 3 == 0 {
            let ivt: Vec<u8> = (0..1024).map(|_| rng.next() as u8).collect();
            vm.mem_write(0, &ivt).unwrap();
        }
        for r in regs {
            vm.set(r, Value::Int((rng.next() & 0xFFFF_FFFF) as i64))
                .unwrap();
        }
        vm.set("cpu.eflags", Value::Int((rng.next() & 0xFFFF_FFFF) as i64))
            .unwrap();
        vm.set("cpu.cs.selector", Value::Int((at >> 4) as i64))
            .unwrap();
        vm.set("cpu.eip", Value::Int(0)).unwrap();
        for s in [
            "cpu.ds.selector",
            "cpu.es.selector",
            "cpu.ss.selector",
            "cpu.fs.selector",
            "cpu.gs.selector",
        ] {
            vm.set(s, Value::Int((rng.next() & 0xFFFF) as i64)).unwrap();
        }
        vm.power_on().unwrap();
        let stop = vm.run(Some(5000)).unwrap();
        assert!(
            ["budget", "halted", "shutdown", "exit", "idle"].contains(&stop.name()),
            "seed {seed}: {stop}"
        );
    }
}
