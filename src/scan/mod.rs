//! The only wing that reads AWS: from the accounts and regions to scan to the [`Report`]'s
//! inventory and coverage.
//!
//! - [`pipeline`] runs a scan: targets, credentials, collection, coverage;
//! - [`targets`] chooses the accounts (the caller's, a list, an accounts file, an Organization);
//! - [`aws`] builds every client (credentials, endpoint, retries, timeouts, request counting);
//! - [`collect`] reads each account×region's keys into the inventory, with read-only calls only;
//! - [`shard`] and [`merge`] split an organization over several jobs and join their reports;
//! - [`progress`] reports progress on a terminal.
//!
//! Publishing findings to Security Hub writes to AWS too; it lives in [`crate::publish`], with its
//! own role, and never runs during a scan.
//!
//! [`Report`]: crate::model::Report

pub mod aws;
pub mod collect;
pub mod merge;
pub mod pipeline;
pub mod progress;
pub mod shard;
pub mod targets;
