//! Interpreter throughput on the bench guest (`guests/bench/loop.S`): guest
//! instructions per second through the whole stack (control API, run loop,
//! CPU, bus). Later tiers (the JIT) and other emulators are compared on the
//! same guest.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use moon86::control::Vm;
use moon86::machine::MachineConfig;
use std::path::Path;

fn boot() -> Vm {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("guests/bench/loop.bin");
    let mut vm = Vm::new(MachineConfig::default()).expect("a default machine");
    vm.load_boot_sector(&path).expect("the bench guest loads");
    vm.power_on().expect("power on");
    vm
}

fn interpreter(c: &mut Criterion) {
    // One calibration run: the guest's instruction count is fixed.
    let mut vm = boot();
    let stop = vm.run(Some(1 << 32)).expect("runs");
    assert_eq!(
        stop.name(),
        "exit",
        "the bench guest must finish through the exit port"
    );
    let icount = vm.machine().unwrap().icount;

    let mut group = c.benchmark_group("interpreter");
    group.sample_size(10);
    group.throughput(Throughput::Elements(icount));
    group.bench_function("bench_loop_guest", |b| {
        b.iter(|| {
            let mut vm = boot();
            vm.run(None).expect("runs")
        })
    });
    group.finish();
}

criterion_group!(benches, interpreter);
criterion_main!(benches);
