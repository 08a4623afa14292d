//! The catalog's framework mappings as OCSF-style compliance data: `{standard: [control, ...]}`.
//!
//! The catalog writes a mapping as one line, e.g. `PCI DSS 4.0 3.6.1, 3.7.4` or
//! `CIS AWS Foundations 3.6 / 4.6`; [`crate::catalog::parse_mapping`] reads it, as it does for
//! the compliance summary.

use serde_json::{Map, Value};

use crate::catalog::{CheckMeta, parse_mapping};

/// Splits one mapping into its standard's name and controls ([`parse_mapping`]).
pub fn parse(mapping: &str) -> Option<(&'static str, Vec<&str>)> {
    parse_mapping(mapping).map(|(standard, controls)| (standard.name, controls))
}

/// The check's mappings as `{standard: [controls]}` in catalog order; a mapping that does not
/// parse is kept whole under its own text, with no controls, rather than dropped.
pub fn of(meta: &CheckMeta) -> Value {
    let mut by_standard = Map::new();
    for mapping in &meta.frameworks {
        let (standard, controls) = match parse(mapping) {
            Some((standard, controls)) => (standard, controls),
            None => (mapping.as_str(), Vec::new()),
        };
        let entry = by_standard
            .entry(standard.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            for control in controls {
                if !list.iter().any(|c| c == control) {
                    list.push(Value::String(control.to_string()));
                }
            }
        }
    }
    Value::Object(by_standard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_catalog_mapping_names_a_known_standard_and_controls() {
        for meta in crate::analysis::catalog().all() {
            assert!(!meta.frameworks.is_empty(), "{} has mappings", meta.id);
            for mapping in &meta.frameworks {
                assert!(parse(mapping).is_some(), "{}: '{mapping}'", meta.id);
            }
        }
    }

    #[test]
    fn a_check_groups_its_controls_by_standard() {
        let rot001 = crate::analysis::catalog()
            .lookup("ROT001")
            .expect("catalog");
        assert_eq!(
            of(rot001),
            json!({
                "CIS AWS Foundations": ["3.6", "4.6"],
                "AWS FSBP": ["KMS.4"],
                "PCI DSS 4.0": ["3.6.1", "3.7.4"],
                "NIST 800-53": ["SC-12"],
            })
        );
        let unknown = CheckMeta {
            frameworks: vec!["ISO 27001 A.10".into(), "NIST 800-53 CM-2".into()],
            ..rot001.clone()
        };
        assert_eq!(
            of(&unknown),
            json!({"ISO 27001 A.10": [], "NIST 800-53": ["CM-2"]})
        );
    }
}
