//! Shared test and benchmark harness: the local AWS emulator, the fault-injecting proxy, seeding
//! through the AWS SDK (and IAM through a small signed Query caller), the synthetic estates of the benchmarks, and running the real `kms-audit`
//! binary. The integration tests (tests/e2e) and the examples that seed the emulator include it by
//! path; bench_stub and bench_inventory include just the files they need (bench.rs, proxy.rs,
//! inventory.rs), so that they do not link the AWS SDK.
#![allow(dead_code)]

pub mod bench;
pub mod cli;
pub mod demo;
pub mod emulator;
pub mod iam;
pub mod inventory;
pub mod ocsf;
pub mod org;
pub mod proxy;
pub mod seed;
