//! The JSON report: the canonical result, read back by `kms-audit report` and `--baseline`
//! ([`crate::model::saved_report`]). Its JSON Schema is `reports/kms-audit-report.schema.json`
//! (see [`super::schema`]).

use std::io::Write;

use crate::model::Report;

/// Writes the pretty-printed report to `out`, field by field, without building it in memory.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}
