//! The check catalog: one YAML file per check in `checks/`, compiled into the binary.
//!
//! Each entry holds what a user needs to understand and act on a finding (title, rationale,
//! remediation, references, framework mappings). `kms-audit checks` lists the catalog and
//! `kms-audit explain ID` prints one entry; a test keeps catalog and implementations one to one.

use std::sync::LazyLock;

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

macro_rules! catalog_files {
    ($($id:literal),* $(,)?) => {
        &[$(($id, include_str!(concat!("../checks/", $id, ".yaml")))),*]
    };
}

/// The embedded catalog sources, in catalog order.
const SOURCES: &[(&str, &str)] = catalog_files!(
    "ROT001", "ROT002", "DEL001", "STA001", "POL001", "POL002", "POL003", "GRT001", "MRK001",
    "ALI001", "TAG001", "DRF001", "DRF002", "DRF003", "DRF004", "DRF005", "DRF006",
);

static CATALOG: LazyLock<Vec<CheckMeta>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .filter_map(
            |(id, text)| match serde_saphyr::from_str::<CheckMeta>(text) {
                Ok(meta) => Some(meta),
                // A broken entry is a build defect caught by the catalog tests; never panic a scan.
                Err(err) => {
                    tracing::error!("catalog entry checks/{id}.yaml is invalid: {err}");
                    None
                }
            },
        )
        .collect()
});

/// Every check, in catalog order.
pub fn all() -> &'static [CheckMeta] {
    &CATALOG
}

/// A check by id or name (case-insensitive id).
pub fn lookup(id_or_name: &str) -> Option<&'static CheckMeta> {
    all()
        .iter()
        .find(|meta| meta.id.eq_ignore_ascii_case(id_or_name) || meta.name == id_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_file_parses_and_matches_its_file_name() {
        assert_eq!(all().len(), SOURCES.len(), "every entry parses");
        for ((file_id, _), meta) in SOURCES.iter().zip(all()) {
            assert_eq!(*file_id, meta.id, "checks/{file_id}.yaml holds its own id");
            assert!(!meta.title.is_empty() && !meta.rationale.is_empty());
            assert!(!meta.remediation.is_empty() && !meta.references.is_empty());
        }
    }

    #[test]
    fn ids_and_names_are_unique() {
        let mut ids: Vec<&str> = all().iter().map(|m| m.id.as_str()).collect();
        let mut names: Vec<&str> = all().iter().map(|m| m.name.as_str()).collect();
        ids.sort();
        ids.dedup();
        names.sort();
        names.dedup();
        assert_eq!(ids.len(), all().len());
        assert_eq!(names.len(), all().len());
    }

    #[test]
    fn lookup_by_id_or_name() {
        assert_eq!(
            lookup("rot001").map(|m| m.name.as_str()),
            Some("rotation-disabled")
        );
        assert_eq!(
            lookup("public-key-policy").map(|m| m.id.as_str()),
            Some("POL001")
        );
        assert!(lookup("NOPE999").is_none());
    }
}
