//! kms-audit: a read-only compliance auditor and drift scanner for AWS KMS keys.
//!
//! Data flow (ARCHITECTURE.md): targets → credentials → collect ([`scan`]) →
//! [`model::Inventory`] → checks and drift ([`analysis`]) → findings → [`report`].
//!
//! The wings, from the floor up; a module imports only from wings below it (a test enforces it):
//! - [`model`]: the data every stage passes on, the saved-report reader, ARNs, regions;
//! - [`policy`] and [`catalog`]: libraries (the IAM policy language; the checks catalog);
//! - [`inputs`]: the config file and declared specs;
//! - [`scan`]: the only wing that reads AWS; [`analysis`]: pure checks, drift, suppressions;
//! - [`report`]: renderers; [`publish`]: the only writer to AWS, with its own role;
//! - [`cli`]: the command line.

pub mod analysis;
pub mod catalog;
pub mod cli;
pub mod inputs;
pub mod model;
pub mod policy;
pub mod publish;
pub mod report;
pub mod scan;

#[cfg(test)]
mod layering_tests;
