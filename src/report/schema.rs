//! The JSON Schema of the JSON report, generated from the Rust types of [`crate::model`].
//!
//! The published copy is `reports/kms-audit-report.schema.json`; a test fails when it differs
//! from what the types generate (regenerate with `KMS_AUDIT_BLESS=1 cargo test --test e2e report_samples::`).

use crate::model::Report;

/// Where the schema is published, relative to the crate root.
pub const SCHEMA_PATH: &str = "reports/kms-audit-report.schema.json";

/// The schema (JSON Schema 2020-12) as pretty-printed JSON.
pub fn report_schema() -> String {
    let mut schema = schemars::schema_for!(Report);
    schema.insert("title".to_string(), "kms-audit JSON report".into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
