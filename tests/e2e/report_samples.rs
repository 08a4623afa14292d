//! `reports/` holds the JSON Schema of the JSON report and a sample of every format rendered
//! from the report fixture. These tests fail when either is out of date with the code;
//! regenerate with `KMS_AUDIT_BLESS=1 cargo test --test e2e report_samples::`.

use crate::report_fixture;

use std::path::PathBuf;

use kms_audit::report::schema::{SCHEMA_PATH, report_schema};
use kms_audit::report::{self, Format, RenderOptions};
use serde_json::Value;

fn blessing() -> bool {
    std::env::var_os("KMS_AUDIT_BLESS").is_some_and(|v| v == "1")
}

fn sample_path(format: Format) -> PathBuf {
    report_fixture::root()
        .join("reports")
        .join(format!("sample.{}", format.extension()))
}

/// Compares `actual` with the file, or rewrites the file when blessing.
fn check_file(path: &PathBuf, actual: &str) {
    if blessing() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir reports");
        std::fs::write(path, actual).expect("write sample");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} is out of date; regenerate with KMS_AUDIT_BLESS=1 cargo test --test e2e report_samples::",
        path.display()
    );
}

#[test]
fn samples_of_every_format_are_up_to_date() {
    let report = report_fixture::analyzed();
    for format in Format::ALL {
        let text = report::render(&report, format, RenderOptions::default());
        check_file(&sample_path(format), &text);
    }
}

#[test]
fn the_json_schema_is_generated_from_the_types() {
    check_file(&report_fixture::root().join(SCHEMA_PATH), &report_schema());
}

fn report_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&report_schema()).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid JSON Schema")
}

fn assert_valid(validator: &jsonschema::Validator, name: &str, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
}

#[test]
fn reports_validate_against_the_json_schema() {
    let validator = report_validator();
    let sample = report::render(
        &report_fixture::analyzed(),
        Format::Json,
        RenderOptions::default(),
    );
    assert_valid(
        &validator,
        "sample",
        &serde_json::from_str(&sample).expect("json"),
    );
    for fixture in ["scan.json", "baseline.json"] {
        let text = std::fs::read_to_string(report_fixture::fixture(fixture)).expect("fixture");
        assert_valid(
            &validator,
            fixture,
            &serde_json::from_str(&text).expect("json"),
        );
    }
    // The schema rejects what the reader rejects.
    let mut broken: Value = serde_json::from_str(&sample).expect("json");
    broken["findings"][0]["severity"] = Value::from("severe");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn the_sarif_sample_validates_against_the_sarif_schema() {
    let path = report_fixture::sarif_schema();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("the SARIF schema at {}: {err}", path.display())),
    )
    .expect("schema is JSON");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("valid schema");
    let sample = std::fs::read_to_string(sample_path(Format::Sarif)).expect("sample.sarif");
    assert_valid(
        &validator,
        "reports/sample.sarif",
        &serde_json::from_str(&sample).expect("json"),
    );
}
