//! kms-audit: a read-only compliance auditor and drift scanner for AWS KMS keys.
//!
//! Data flow (see DESIGN.md): targets → credentials → [`collect`] → [`model::Inventory`] →
//! checks / drift → findings → [`report`]. Only [`collect`] (through [`aws`]) talks to AWS.

pub mod access;
pub mod analyze;
pub mod aws;
pub mod baseline;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod config;
pub mod drift;
pub mod exit;
pub mod finding;
pub mod input;
pub mod merge;
pub mod model;
pub mod policy;
pub mod progress;
pub mod publish;
pub mod report;
pub mod scan;
pub mod shard;
pub mod spec;
pub mod suppress;
pub mod targets;
pub mod time;
pub mod yaml;
