//! What GitHub code scanning requires of kms-audit's SARIF, checked the way its consumers check:
//! the official SARIF 2.1.0 schema, Microsoft's SARIF Multitool with GitHub's ingestion rules
//! (`validate --rule-kind "Ghas;Sarif"`), and the size limits the multitool does not check.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// GitHub's limits per SARIF upload (documented at docs.github.com, "SARIF support for code
/// scanning"): 25,000 results per run, 20 runs per file, 25,000 rules per run, 20 tags per rule,
/// 1,000 locations per result, and 10 MB per file (compressed; asserted here uncompressed, which
/// is stricter).
pub const RESULTS_PER_RUN: usize = 25_000;
pub const RUNS_PER_FILE: usize = 20;
pub const RULES_PER_RUN: usize = 25_000;
pub const TAGS_PER_RULE: usize = 20;
pub const LOCATIONS_PER_RESULT: usize = 1_000;
pub const FILE_BYTES: u64 = 10_000_000;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The official SARIF 2.1.0 schema: `shared/schemas/` beside the checkout, or beside one of
/// its parent directories (a worktree of it).
/// The official SARIF 2.1.0 JSON Schema, kept in the repository (tests/fixtures/schemas/).
pub fn schema_path() -> PathBuf {
    root().join("tests/fixtures/schemas/sarif-schema-2.1.0.json")
}

/// Validates a SARIF log against the official schema; panics listing every error.
pub fn assert_schema_valid(name: &str, sarif: &Value) {
    let path = schema_path();
    let schema = read_json(&path);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .take(20)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: SARIF schema errors:\n{}",
        errors.join("\n")
    );
}

/// Asserts GitHub's size limits on one SARIF file.
pub fn assert_within_github_limits(path: &Path) {
    let bytes = std::fs::metadata(path).expect("file").len();
    assert!(bytes <= FILE_BYTES, "{}: {bytes} bytes", path.display());
    let log = read_json(path);
    let runs = log["runs"].as_array().expect("runs");
    assert!(
        runs.len() <= RUNS_PER_FILE,
        "{}: {} runs",
        path.display(),
        runs.len()
    );
    for run in runs {
        let results = run["results"].as_array().expect("results");
        assert!(
            results.len() <= RESULTS_PER_RUN,
            "{}: {} results in a run",
            path.display(),
            results.len()
        );
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert!(rules.len() <= RULES_PER_RUN);
        for rule in rules {
            let tags = rule["properties"]["tags"].as_array().map_or(0, Vec::len);
            assert!(tags <= TAGS_PER_RULE, "{}: {tags} tags", rule["id"]);
        }
        for result in results {
            let locations = result["locations"].as_array().map_or(0, Vec::len);
            assert!((1..=LOCATIONS_PER_RESULT).contains(&locations));
        }
    }
}

/// The multitool's native binary: `KMS_AUDIT_SARIF_MULTITOOL`, else where
/// `scripts/setup-sarif-multitool.sh` installs it. Missing: a failure under `CI=true`, else a
/// skip with the reason printed.
pub fn multitool() -> Option<PathBuf> {
    let installed = root()
        .join(".tools/sarif-multitool/node_modules/@microsoft")
        .join(format!("sarif-multitool-{}", platform()))
        .join("Sarif.Multitool");
    let path = std::env::var_os("KMS_AUDIT_SARIF_MULTITOOL")
        .map(PathBuf::from)
        .unwrap_or(installed);
    if path.is_file() {
        return Some(path);
    }
    let reason = format!(
        "the SARIF Multitool is not installed at {} (run scripts/setup-sarif-multitool.sh)",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{reason}");
    }
    eprintln!("skipping the SARIF Multitool validation: {reason}");
    None
}

fn platform() -> &'static str {
    if cfg!(target_os = "macos") {
        "darwin"
    } else {
        "linux"
    }
}

/// One message of the multitool about a file.
#[derive(Debug)]
pub struct Problem {
    pub level: String,
    pub rule: String,
    pub file: String,
    pub text: String,
}

/// Runs `Sarif.Multitool validate --rule-kind "Ghas;Sarif"` on `files` (one run of the tool) and
/// returns what it reported; a file it did not analyse is a panic.
pub fn multitool_validate(tool: &Path, files: &[PathBuf]) -> Vec<Problem> {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("validation.sarif");
    let run = Command::new(tool)
        .arg("validate")
        .args(["--rule-kind", "Ghas;Sarif"])
        .args(["--max-file-size-in-kb", "1048576"])
        .arg("--output")
        .arg(&out)
        .args(files)
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        .output()
        .expect("run the SARIF Multitool");
    let log = std::fs::read(&out).unwrap_or_else(|err| {
        panic!(
            "the multitool wrote no log ({err}); exit {:?}\n{}\n{}",
            run.status.code(),
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let log: Value = serde_json::from_slice(&log).expect("the multitool's log is JSON");
    let run0 = &log["runs"][0];
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("Done. {} files scanned.", files.len())),
        "the multitool analysed every file:\n{stdout}"
    );
    let rules = run0["tool"]["driver"]["rules"].as_array();
    let mut problems = Vec::new();
    for result in run0["results"].as_array().into_iter().flatten() {
        let rule = result["ruleId"].as_str().unwrap_or("").to_string();
        let text = result["message"]["arguments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .or_else(|| result["message"]["text"].as_str().map(str::to_string))
            .unwrap_or_default();
        let file = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or("")
            .to_string();
        // A result without a level has its rule's default level, else warning.
        let level = result["level"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                rules.and_then(|rules| {
                    rules
                        .iter()
                        .find(|r| r["id"] == rule.as_str())
                        .and_then(|r| r["defaultConfiguration"]["level"].as_str())
                        .map(str::to_string)
                })
            })
            .unwrap_or_else(|| "warning".to_string());
        problems.push(Problem {
            level,
            rule,
            file,
            text,
        });
    }
    problems
}

/// Asserts the multitool reports no error on `files`; warnings are printed.
pub fn assert_multitool_clean(tool: &Path, files: &[PathBuf]) {
    let problems = multitool_validate(tool, files);
    for p in problems.iter().filter(|p| p.level != "error") {
        eprintln!("multitool {} {}: {} ({})", p.level, p.rule, p.text, p.file);
    }
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| p.level == "error")
        .map(|p| format!("{} {}: {}", p.rule, p.file, p.text))
        .collect();
    assert!(
        errors.is_empty(),
        "{} multitool errors (Ghas;Sarif):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// The multitool does catch what GitHub rejects: a result without locations is a GHAS error
/// (so a clean validation is not a validator that checks nothing).
pub fn assert_multitool_catches_errors(tool: &Path, valid: &Path) {
    let mut log = read_json(valid);
    let result = log["runs"][0]["results"]
        .as_array_mut()
        .and_then(|r| r.first_mut())
        .expect("a result to break");
    result.as_object_mut().expect("object").remove("locations");
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.sarif");
    std::fs::write(&broken, serde_json::to_vec(&log).expect("json")).expect("write");
    let problems = multitool_validate(tool, &[broken]);
    assert!(
        problems
            .iter()
            .any(|p| p.level == "error" && p.rule.starts_with("GH")),
        "a result without locations must be a GHAS error: {problems:?}"
    );
}
