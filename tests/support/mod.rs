//! Shared test harness: the local AWS emulator, the fault-injecting proxy, seeding through the
//! AWS SDK, and running the real `kms-audit` binary.
#![allow(dead_code)]

pub mod cli;
pub mod demo;
pub mod emulator;
pub mod ocsf;
pub mod org;
pub mod proxy;
pub mod seed;
