//! Reader for MOO single-step CPU test vectors (see
//! `../shared/testdata/singlestep/README.md`).
//!
//! SKELETON: being written.
