//! The check catalog: one YAML file per check in `checks/`, compiled into the binary.
//!
//! Each entry holds what a user needs to understand and act on a finding (title, rationale,
//! remediation, references, framework mappings). `kms-audit checks` lists the catalog and
//! `kms-audit explain ID` prints one entry. The registries that implement the checks compile
//! their files in ([`catalog_file!`]); the build's catalog is [`crate::analysis::catalog`].

use serde::{Deserialize, Serialize};

use crate::model::Severity;

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckMeta {
    /// Stable id, never reused (e.g. `ROT001`).
    pub id: String,
    /// Stable kebab-case name (e.g. `rotation-disabled`); suppressions may use it instead of the id.
    pub name: String,
    /// Default severity; the config may override it.
    pub severity: Severity,
    pub category: String,
    pub title: String,
    pub rationale: String,
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub frameworks: Vec<String>,
}

/// One catalog file compiled into the binary: a check id and the text of its `checks/ID.yaml`.
///
/// Each registry that implements checks (the compliance checks, drift, suppressions) carries the
/// catalog files of its own checks, so the id is written once, next to the implementation.
#[derive(Debug, Clone, Copy)]
pub struct CatalogFile {
    pub id: &'static str,
    pub yaml: &'static str,
}

/// `catalog_file!("ROT001")`: the compiled-in `checks/ROT001.yaml`.
macro_rules! catalog_file {
    ($id:literal) => {
        $crate::catalog::CatalogFile {
            id: $id,
            yaml: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/checks/",
                $id,
                ".yaml"
            )),
        }
    };
}
pub(crate) use catalog_file;

/// Parses one catalog file. A broken entry is a build defect caught by the catalog tests; it is
/// logged and left out, never a panic in a scan.
pub fn parse(file: &CatalogFile) -> Option<CheckMeta> {
    match serde_saphyr::from_str::<CheckMeta>(file.yaml) {
        Ok(meta) => Some(meta),
        Err(err) => {
            tracing::error!("catalog entry checks/{}.yaml is invalid: {err}", file.id);
            None
        }
    }
}

/// The checks a build implements, in catalog order (the order of the registries).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Vec<CheckMeta>,
}

impl Catalog {
    pub fn from_files<'a>(files: impl IntoIterator<Item = &'a CatalogFile>) -> Catalog {
        Catalog {
            entries: files.into_iter().filter_map(parse).collect(),
        }
    }

    /// Every check, in catalog order.
    pub fn all(&self) -> &[CheckMeta] {
        &self.entries
    }

    /// A check by id or name (case-insensitive id).
    pub fn lookup(&self, id_or_name: &str) -> Option<&CheckMeta> {
        self.entries
            .iter()
            .find(|meta| meta.id.eq_ignore_ascii_case(id_or_name) || meta.name == id_or_name)
    }
}

/// A standard the catalog maps checks to (a check's `frameworks` entry starts with its name).
#[derive(Debug, PartialEq, Eq)]
pub struct Standard {
    /// As the catalog spells it, e.g. `NIST 800-53`.
    pub name: &'static str,
    /// The compliance summary's framework for each version an entry names, in order:
    /// `CIS AWS Foundations 3.6 / 4.6` is v3.0's 3.6 and v5.0's 4.6.
    pub frameworks: &'static [&'static str],
}

/// The standards the catalog maps to. Their names hold digits and spaces of their own
/// (`NIST 800-53`, `PCI DSS 4.0`), so an entry is matched against this list rather than split
/// by guesswork; a test keeps every catalog entry parseable.
pub const STANDARDS: &[Standard] = &[
    Standard {
        name: "CIS AWS Foundations",
        frameworks: &["cis-aws-foundations-v3.0", "cis-aws-foundations-v5.0"],
    },
    Standard {
        name: "AWS FSBP",
        frameworks: &["aws-fsbp"],
    },
    Standard {
        name: "PCI DSS 4.0",
        frameworks: &["pci-dss-4.0"],
    },
    Standard {
        name: "NIST 800-53",
        frameworks: &["nist-800-53-r5"],
    },
    Standard {
        name: "AWS Control Tower",
        frameworks: &["aws-control-tower"],
    },
];

/// Splits one `frameworks` entry (`PCI DSS 4.0 3.6.1, 3.7.4`, `CIS AWS Foundations 3.6 / 4.6`)
/// into its standard and its controls, separated by `,` (or `/` between versions); `None` when
/// the standard is unknown or no control follows it. The compliance summary and OCSF's
/// compliance data both read the mappings through it.
pub fn parse_mapping(entry: &str) -> Option<(&'static Standard, Vec<&str>)> {
    let entry = entry.trim();
    STANDARDS.iter().find_map(|standard| {
        let rest = entry.strip_prefix(standard.name)?.strip_prefix(' ')?;
        let controls: Vec<&str> = rest
            .split([',', '/'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        (!controls.is_empty()).then_some((standard, controls))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_split_into_standard_and_controls() {
        fn names(entry: &str) -> Option<(&'static str, Vec<&str>)> {
            parse_mapping(entry).map(|(s, controls)| (s.name, controls))
        }
        assert_eq!(
            names("CIS AWS Foundations 3.6 / 4.6"),
            Some(("CIS AWS Foundations", vec!["3.6", "4.6"]))
        );
        assert_eq!(
            names("PCI DSS 4.0 3.6.1, 3.7.4"),
            Some(("PCI DSS 4.0", vec!["3.6.1", "3.7.4"]))
        );
        assert_eq!(
            names("NIST 800-53 SC-12, SC-28, AC-3"),
            Some(("NIST 800-53", vec!["SC-12", "SC-28", "AC-3"]))
        );
        assert_eq!(names("AWS FSBP KMS.4"), Some(("AWS FSBP", vec!["KMS.4"])));
        assert_eq!(names("AWS FSBPX KMS.4"), None);
        assert_eq!(names("NIST 800-53"), None);
        assert_eq!(names("ISO 27001 A.10"), None);
    }

    #[test]
    fn a_broken_file_is_left_out_and_the_rest_parse() {
        let good = CatalogFile {
            id: "ROT001",
            yaml: include_str!("../checks/ROT001.yaml"),
        };
        let broken = CatalogFile {
            id: "BAD001",
            yaml: "id: [",
        };
        let catalog = Catalog::from_files([&good, &broken]);
        assert_eq!(catalog.all().len(), 1);
        assert_eq!(
            catalog.lookup("rot001").map(|m| m.name.as_str()),
            Some("rotation-disabled")
        );
        assert_eq!(
            catalog.lookup("rotation-disabled").map(|m| m.id.as_str()),
            Some("ROT001")
        );
        assert!(catalog.lookup("NOPE999").is_none());
    }
}
