//! kms-audit's integration tests, in one test binary so that the AWS SDK and the crate link once:
//! the real binary's command line and exit codes, end-to-end scans against the local AWS emulator
//! (through the fault-injecting proxy where AWS would refuse), every report format checked by its
//! real consumer, the release tarball and the container image, and the parsers under fuzz.
//!
//! One module per area; `cargo test --test e2e AREA::` runs one (e.g. `cargo test --test e2e
//! scan_org::`). Every end-to-end test starts its own emulator on a free port and writes only
//! into its own temporary directory, so the modules run side by side in one process.

// The harness the benchmark examples share (examples/*.rs include it by path too).
#[path = "../support/mod.rs"]
mod support;

// Helpers of the report and SARIF tests.
mod report_fixture;
mod sarif_support;

mod access_cli;
mod access_e2e;
mod atomic_reports;
mod checks_e2e;
mod cli_errors;
mod completions_man;
mod container;
mod coverage_gaps;
mod demo;
mod docs;
mod drift_e2e;
mod faults;
mod first_run;
mod fuzz_parsers;
mod html_browser;
mod merge_cli;
mod ocsf;
mod package;
mod publish_securityhub;
mod report_cli;
mod report_examples;
mod report_formats;
mod report_samples;
mod report_scan_e2e;
mod sarif_github;
mod scan_account;
mod scan_org;
mod shard_merge;
mod spec_cli;
