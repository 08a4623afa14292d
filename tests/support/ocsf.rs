//! Checking OCSF output the way its consumers read it: every line parsed by `py-ocsf-models`
//! (the models Prowler emits with) as a Detection Finding, and validated against the OCSF 1.1.0
//! JSON Schema with the cloud profile (tests/fixtures/ocsf/, made by scripts/gen-ocsf-schema.py).
//!
//! Under `CI=true` a missing py-ocsf-models fails the test; elsewhere it is skipped with a reason
//! (scripts/setup-test-python.sh installs it). The JSON Schema check always runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::emulator::repo_root;

pub const SCHEMA: &str = "tests/fixtures/ocsf/detection_finding-1.1.0-cloud.schema.json";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The OCSF Detection Finding schema (OCSF 1.1.0, cloud profile).
pub fn schema() -> Value {
    let text = std::fs::read_to_string(repo_root().join(SCHEMA)).expect("OCSF schema fixture");
    serde_json::from_str(&text).expect("the OCSF schema fixture is JSON")
}

pub fn schema_validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema()).expect("the OCSF schema fixture is a valid JSON Schema")
}

/// Schema errors of one event, as `path: message` lines.
pub fn schema_errors(validator: &jsonschema::Validator, event: &Value) -> Vec<String> {
    validator
        .iter_errors(event)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

/// The JSON objects of a JSON Lines text, checking every line is one.
pub fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("line {} is not JSON ({err}): {line}", n + 1))
        })
        .collect()
}

/// What py-ocsf-models said about a file.
#[derive(Debug)]
pub struct PyVerdict {
    pub lines: u64,
    pub errors: Vec<String>,
}

fn python() -> PathBuf {
    repo_root().join(".venv").join("bin").join("python")
}

/// Parses every line of `path` with py-ocsf-models; `None` when it is not installed outside CI.
pub fn py_ocsf_models(path: &Path) -> Option<PyVerdict> {
    let python = python();
    let missing = |why: String| {
        assert!(
            !in_ci(),
            "py-ocsf-models is required under CI=true: {why}; run scripts/setup-test-python.sh"
        );
        eprintln!("skipping the py-ocsf-models check: {why} (run scripts/setup-test-python.sh)");
        None
    };
    if !python.exists() {
        return missing(format!("{} is missing", python.display()));
    }
    let output = Command::new(&python)
        .arg(repo_root().join("scripts/validate-ocsf.py"))
        .arg(path)
        .output()
        .expect("run scripts/validate-ocsf.py");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(2) {
        return missing(stderr.trim().to_string());
    }
    let verdict: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!("validate-ocsf.py printed no verdict ({err}); stderr: {stderr}")
    });
    let errors: Vec<String> = verdict["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        output.status.code(),
        Some(if errors.is_empty() { 0 } else { 1 }),
        "validate-ocsf.py exit status; stderr: {stderr}"
    );
    Some(PyVerdict {
        lines: verdict["lines"].as_u64().expect("lines"),
        errors,
    })
}

/// Asserts that every line of the OCSF file validates with both consumers' checks; returns the
/// events.
pub fn assert_valid_file(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read the OCSF output");
    let events = lines(&text);
    let validator = schema_validator();
    let errors: Vec<String> = events
        .iter()
        .enumerate()
        .flat_map(|(n, event)| {
            schema_errors(&validator, event)
                .into_iter()
                .map(move |e| format!("line {}: {e}", n + 1))
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{} fails the OCSF 1.1.0 schema (cloud profile):\n{}",
        path.display(),
        errors.join("\n")
    );
    if let Some(verdict) = py_ocsf_models(path) {
        assert_eq!(
            verdict.lines,
            events.len() as u64,
            "py-ocsf-models read every line"
        );
        assert!(
            verdict.errors.is_empty(),
            "py-ocsf-models rejects {}:\n{}",
            path.display(),
            verdict.errors.join("\n")
        );
    }
    events
}
