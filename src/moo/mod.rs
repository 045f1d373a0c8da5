//! Reader and runner for MOO single-step CPU test vectors: hardware-captured
//! tests of one instruction each (see `../shared/testdata/singlestep/README.md`).
//!
//! The module is split by idea: `test` holds the data types, `format` decodes
//! MOO bytes (plain or gzip) into them, `metadata` reads the 286 suite's
//! defined-flags masks, `runner` runs one test on a fresh [`crate::cpu::Cpu`],
//! `skips` is the explicit skip list, and `suite` runs and reports a whole
//! directory for the `singlestep` example and the integration test. Nothing
//! here is used by the emulator itself; it only drives the CPU's public API.

pub mod format;
pub mod metadata;
pub mod runner;
pub mod skips;
pub mod suite;
pub mod test;

pub use format::{parse, parse_maybe_gz, read_file, MooError};
pub use metadata::{FlagMasks, MetadataError, OpcodeKey};
pub use runner::{
    load_registers, run_test, run_test_with, Diff, FileContext, Outcome, Stepper, TestBus,
};
pub use skips::{Revocations, SkipEntry, SKIPS};
pub use suite::{run_dir, run_dir_with, SuiteError, SuiteOptions, SuiteReport};
pub use test::{
    CpuId, CpuState, Exception, Header, Meta, MooFile, MooTest, Reg, RegLayout, Registers,
};
