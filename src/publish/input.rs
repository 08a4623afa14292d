//! Reading the reports `publish` sends: only what the ASFF findings and the baseline need.
//!
//! A JSON report of 100,000 keys is over 200 MB, most of it key policies, grants and finding
//! evidence, none of which goes into ASFF. They are skipped while parsing (never allocated), so
//! publishing costs less memory and time than reading the whole report. A file that does not
//! parse this way is read again by the full reader, for its exact error.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;

use crate::model::saved_report::{self, ReadError};
use crate::model::{
    BaselineState, CoverageGap, Finding, Inventory, KeyRecord, Report, Rotation, SCHEMA_VERSION,
    Severity, SpecLocation, Suppressed, Tags, Target, Text, ToolInfo,
};

/// Reads `path` (`-`: standard input, read by the full reader) as a report for publishing:
/// key policies, grants and evidence left out.
pub fn read(path: &Path) -> Result<Report, ReadError> {
    if path.as_os_str() == "-" {
        return saved_report::read_report(path);
    }
    let file = File::open(path).map_err(|error| ReadError::Io {
        file: path.display().to_string(),
        error,
    })?;
    match serde_json::from_reader::<_, Input>(BufReader::with_capacity(256 * 1024, file)) {
        Ok(input) if input.schema_version == SCHEMA_VERSION => Ok(input.into_report()),
        // Wrong version, broken or not a report: the full reader says exactly why.
        _ => saved_report::read_report(path),
    }
}

/// Reads only the findings of an earlier report (`--baseline`): its inventory is skipped too.
pub fn read_baseline(path: &Path) -> Result<crate::analysis::baseline::Baseline, ReadError> {
    let file = path.display().to_string();
    if path.as_os_str() != "-"
        && let Ok(handle) = File::open(path)
        && let Ok(input) = serde_json::from_reader::<_, BaselineInput>(BufReader::with_capacity(
            256 * 1024,
            handle,
        ))
        && input.schema_version == SCHEMA_VERSION
    {
        return Ok(crate::analysis::baseline::Baseline {
            file,
            findings: input.findings.into_iter().map(Into::into).collect(),
        });
    }
    // Standard input, or not a readable report of this version: the full reader says why.
    saved_report::read_report(path)
        .map(|report| crate::analysis::baseline::Baseline::from_report(file, report))
}

#[derive(Deserialize)]
struct BaselineInput {
    schema_version: String,
    #[serde(default)]
    findings: Vec<SlimFinding>,
}

#[derive(Deserialize)]
struct Input {
    schema_version: String,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    finished_at: String,
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    coverage_gaps: Vec<CoverageGap>,
    #[serde(default)]
    inventory: SlimInventory,
    #[serde(default)]
    findings: Vec<SlimFinding>,
    #[serde(default)]
    resolved: Vec<SlimFinding>,
}

#[derive(Deserialize, Default)]
struct SlimInventory {
    #[serde(default)]
    keys: Vec<SlimKey>,
}

/// The fields of a key that ASFF's `Details.AwsKmsKey` and `Tags` use.
#[derive(Deserialize)]
struct SlimKey {
    arn: String,
    key_id: String,
    account: Text,
    region: Text,
    key_state: Option<Text>,
    key_manager: Option<Text>,
    origin: Option<Text>,
    description: Option<String>,
    rotation: Option<Rotation>,
    #[serde(default)]
    tags: Tags,
}

/// A finding without its evidence.
#[derive(Deserialize)]
struct SlimFinding {
    check_id: Text,
    name: Text,
    severity: Severity,
    account: Text,
    region: Text,
    key_arn: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    message: String,
    remediation: String,
    fingerprint: String,
    #[serde(default)]
    spec: Option<Box<SpecLocation>>,
    #[serde(default)]
    suppressed: Option<Box<Suppressed>>,
    #[serde(default)]
    baseline: Option<BaselineState>,
}

impl From<SlimFinding> for Finding {
    fn from(f: SlimFinding) -> Finding {
        Finding {
            check_id: f.check_id,
            name: f.name,
            severity: f.severity,
            account: f.account,
            region: f.region,
            key_arn: f.key_arn,
            resource: f.resource,
            // ASFF names the identity, not the keys: the list is left unread.
            keys: None,
            aliases: f.aliases,
            message: f.message,
            evidence: Default::default(),
            remediation: f.remediation,
            fingerprint: f.fingerprint,
            spec: f.spec,
            suppressed: f.suppressed,
            baseline: f.baseline,
        }
    }
}

impl From<SlimKey> for KeyRecord {
    fn from(k: SlimKey) -> KeyRecord {
        KeyRecord {
            arn: k.arn,
            key_id: k.key_id,
            account: k.account,
            region: k.region,
            key_state: k.key_state,
            key_manager: k.key_manager,
            origin: k.origin,
            description: k.description,
            rotation: k.rotation,
            tags: k.tags,
            ..KeyRecord::default()
        }
    }
}

impl Input {
    fn into_report(self) -> Report {
        Report {
            schema_version: self.schema_version,
            tool: ToolInfo::default(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            organization_id: self.organization_id,
            organization_accounts: None,
            account_names: Default::default(),
            shard: None,
            targets: self.targets,
            coverage_gaps: self.coverage_gaps,
            inventory: Inventory {
                keys: self.inventory.keys.into_iter().map(Into::into).collect(),
                iam: None,
            },
            findings: self.findings.into_iter().map(Into::into).collect(),
            resolved: self.resolved.into_iter().map(Into::into).collect(),
            access: None,
            summary: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::asff;

    fn sample() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/sample.json")
    }

    #[test]
    fn publishes_the_same_asff_as_the_full_report() {
        let slim = read(&sample()).expect("slim");
        let full = saved_report::read_report(&sample()).expect("full");
        let (slim_builder, full_builder) =
            (asff::AsffBuilder::new(&slim), asff::AsffBuilder::new(&full));
        assert_eq!(slim.findings.len(), full.findings.len());
        assert_eq!(slim.resolved.len(), full.resolved.len());
        assert!(!slim.resolved.is_empty());
        for (a, b) in slim.findings.iter().zip(&full.findings) {
            assert_eq!(
                slim_builder.finding(a, false),
                full_builder.finding(b, false)
            );
        }
        for (a, b) in slim.resolved.iter().zip(&full.resolved) {
            assert_eq!(slim_builder.finding(a, true), full_builder.finding(b, true));
        }
        assert_eq!(slim.targets, full.targets);
        assert_eq!(slim.coverage_gaps, full.coverage_gaps);
    }

    #[test]
    fn a_baseline_keeps_only_findings() {
        let baseline = read_baseline(&sample()).expect("baseline");
        let full = saved_report::read_report(&sample()).expect("full");
        let fingerprints =
            |f: &[Finding]| f.iter().map(|f| f.fingerprint.clone()).collect::<Vec<_>>();
        assert_eq!(
            fingerprints(&baseline.findings),
            fingerprints(&full.findings)
        );
    }

    #[test]
    fn a_bad_file_gets_the_full_readers_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.json");
        std::fs::write(&path, r#"{"schema_version": "0", "findings": []}"#).expect("write");
        let err = read(&path).expect_err("old version").to_string();
        assert!(err.contains("schema version 0"), "{err}");
        std::fs::write(&path, "not json").expect("write");
        assert!(read(&path).is_err());
        assert!(read(Path::new("/nonexistent.json")).is_err());
    }
}
