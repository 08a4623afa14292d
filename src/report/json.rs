//! The JSON report: the canonical result, read back by `kms-audit report` and `--baseline`.
//! Its JSON Schema is `reports/kms-audit-report.schema.json` (see [`super::schema`]).

use std::io::Write;
use std::path::Path;

use crate::model::{Report, SCHEMA_VERSION};

/// Writes the pretty-printed report to `out`, field by field, without building it in memory.
pub fn render_to(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// Why a saved JSON report could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("could not read {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file} is not a kms-audit JSON report: {message}")]
    Invalid { file: String, message: String },
    #[error(
        "{file} is a report of schema version {found}; this kms-audit reads version {SCHEMA_VERSION}"
    )]
    Version { file: String, found: String },
}

/// Reads a JSON report (`-` reads standard input).
pub fn read_report(path: &Path) -> Result<Report, ReadError> {
    let file = path.display().to_string();
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|source| ReadError::Io {
        file: file.clone(),
        source,
    })?;
    parse_report(&file, &text)
}

/// Parses the text of a JSON report named `file`; checks the schema version first so an
/// incompatible report gets that message rather than a missing-field error.
pub fn parse_report(file: &str, text: &str) -> Result<Report, ReadError> {
    let invalid = |message: String| ReadError::Invalid {
        file: file.to_string(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| invalid(err.to_string()))?;
    match value.get("schema_version").and_then(|v| v.as_str()) {
        Some(SCHEMA_VERSION) => {}
        Some(found) => {
            return Err(ReadError::Version {
                file: file.to_string(),
                // On one line, whatever the file holds.
                found: found
                    .chars()
                    .map(|c| {
                        if c.is_control() {
                            c.escape_default().to_string()
                        } else {
                            c.to_string()
                        }
                    })
                    .collect(),
            });
        }
        None => return Err(invalid("no schema_version field".to_string())),
    }
    serde_json::from_value(value).map_err(|err| {
        // Again from the text, which gives the line and column of the problem.
        let err = serde_json::from_str::<Report>(text).err().unwrap_or(err);
        invalid(plain_words(&err.to_string()))
    })
}

/// serde's wording without Rust type names: `expected struct Target` is `expected an object`,
/// `expected u64` is `expected a whole number`.
fn plain_words(message: &str) -> String {
    let mut out = message.to_string();
    while let Some(at) = out.find("expected struct ") {
        let name_start = at + "expected struct ".len();
        let name_len = out[name_start..]
            .find(|c: char| !c.is_alphanumeric() && c != '_')
            .unwrap_or(out.len() - name_start);
        out.replace_range(at..name_start + name_len, "expected an object");
    }
    for rust in ["u8", "u16", "u32", "u64", "i32", "i64"] {
        let expected = format!("expected {rust}");
        if let Some(at) = out.find(&expected)
            && !out[at + expected.len()..].starts_with(|c: char| c.is_alphanumeric())
        {
            out.replace_range(at..at + expected.len(), "expected a whole number");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_other_json_and_other_versions() {
        let err = parse_report("x.json", "[1,2]").unwrap_err().to_string();
        assert_eq!(
            err,
            "x.json is not a kms-audit JSON report: no schema_version field"
        );
        let err = parse_report("x.json", "{\"schema_version\": \"9\"}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("schema version 9"), "{err}");
        // On one line whatever the file holds (found by tests/fuzz_parsers.rs).
        let err = parse_report("x.json", "{\"schema_version\": \"9\\n\"}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("schema version 9\\n;"), "{err}");
        let err = parse_report("x.json", "{\"schema_version\": \"1\"}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field"), "{err}");
        let err = parse_report("x.json", "not json").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_reported_with_its_line_in_plain_words() {
        // Found by tests/fuzz_parsers.rs: these errors had neither a line nor a readable type.
        let text = "{\"schema_version\": \"1\",\n \"tool\": \"kms-audit\"}";
        let err = parse_report("x.json", text).unwrap_err().to_string();
        assert_eq!(
            err,
            "x.json is not a kms-audit JSON report: invalid type: string \"kms-audit\", \
             expected an object at line 2 column 20"
        );
        assert_eq!(
            plain_words("invalid type: null, expected u64 at line 3 column 1"),
            "invalid type: null, expected a whole number at line 3 column 1"
        );
    }
}
