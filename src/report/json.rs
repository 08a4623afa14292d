//! The JSON report: the canonical result, read back by `kms-audit report`.

use crate::model::Report;

pub fn render(report: &Report) -> String {
    // Serializing plain data with string keys cannot fail; fall back to an empty object anyway.
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
