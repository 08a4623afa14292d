//! The report fixture shared by the report tests: a saved scan with every severity, drift findings
//! with spec file and line, a finding an active suppression hides, one whose suppression expired,
//! coverage gaps, and a baseline a week older (with a resolved finding and one out of sight).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kms_audit::analysis::baseline::Baseline;
use kms_audit::analysis::suppress::Suppressions;
use kms_audit::analysis::{self, AnalysisInputs};
use kms_audit::model::Report;
use kms_audit::model::saved_report::read_report;
use time::macros::date;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/reports").join(name)
}

/// The saved scan as a path relative to the crate root (what the CLI tests pass).
pub const SCAN: &str = "tests/fixtures/reports/scan.json";
pub const SUPPRESSIONS: &str = "tests/fixtures/reports/suppressions.yaml";
pub const BASELINE: &str = "tests/fixtures/reports/baseline.json";

pub fn raw_scan() -> Report {
    read_report(&fixture("scan.json")).expect("fixture scan.json")
}

/// The inputs of the samples: the fixture's suppressions and baseline, judged on 2026-03-01.
pub fn inputs() -> AnalysisInputs {
    AnalysisInputs {
        // Relative to the crate root, the working directory of cargo's test runs, so the
        // suppressions file is named the same way in every sample.
        suppressions: Some(
            Suppressions::load(Path::new(SUPPRESSIONS)).expect("fixture suppressions"),
        ),
        baseline: Some(Baseline::from_report(
            BASELINE.to_string(),
            read_report(&fixture("baseline.json")).expect("fixture baseline"),
        )),
        today: Some(date!(2026 - 03 - 01)),
        ..AnalysisInputs::default()
    }
}

/// The fixture after the suppression and baseline stages: what every sample is rendered from.
pub fn analyzed() -> Report {
    let mut report = raw_scan();
    analysis::ensure_access(&mut report, &inputs());
    analysis::finish(&mut report, &inputs());
    report
}

/// The official SARIF 2.1.0 schema: `shared/schemas/` beside the checkout, or beside one of
/// its parent directories (a worktree of it).
/// The official SARIF 2.1.0 JSON Schema, kept in the repository (tests/fixtures/schemas/).
pub fn sarif_schema() -> PathBuf {
    root().join("tests/fixtures/schemas/sarif-schema-2.1.0.json")
}
