//! Reading a saved JSON report back: `kms-audit report`, `merge`, `publish` and `--baseline`.
//! The report is written by [`crate::report::json`]; its JSON Schema is
//! `reports/kms-audit-report.schema.json`.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Report, SCHEMA_VERSION};

/// Why a saved JSON report could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    // The I/O error is part of the message, not a `source`: the CLI prints error chains, and
    // the reason would appear twice.
    #[error("could not read {file}: {error}")]
    Io { file: String, error: std::io::Error },
    #[error("{file} is not a kms-audit JSON report: {message}")]
    Invalid { file: String, message: String },
    #[error(
        "{file} is a report of schema version {found}; this kms-audit reads version {SCHEMA_VERSION}"
    )]
    Version { file: String, found: String },
}

/// The read buffer of a saved report: large reads, few system calls, a small fixed cost.
const READ_BUFFER: usize = 256 * 1024;

/// Reads a JSON report (`-` reads standard input).
///
/// A file is parsed straight into the typed [`Report`] from a buffered reader, so a 100 MB scan
/// never sits in memory as text or as a `serde_json::Value` tree beside the report. Only when
/// that fails is the file read a second time, to tell a report of another schema version (or
/// not a report at all) from a broken one. Standard input cannot be read twice, so it is read
/// whole first.
pub fn read_report(path: &Path) -> Result<Report, ReadError> {
    let file = path.display().to_string();
    let io_error = |error| ReadError::Io {
        file: file.clone(),
        error,
    };
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        return parse_report_slice(&file, &bytes);
    }
    let open = || File::open(path).map(|f| BufReader::with_capacity(READ_BUFFER, f));
    let report = serde_json::from_reader::<_, Report>(open().map_err(io_error)?);
    match report {
        Ok(report) => check_version(&file, report),
        Err(err) if err.is_io() => Err(io_error(std::io::Error::from(err))),
        Err(err) => {
            let probe = serde_json::from_reader::<_, VersionProbe>(open().map_err(io_error)?);
            Err(explain(&file, err, probe))
        }
    }
}

/// Parses the text of a JSON report named `file`; an incompatible report gets the schema version
/// message rather than a missing-field error.
pub fn parse_report(file: &str, text: &str) -> Result<Report, ReadError> {
    parse_report_slice(file, text.as_bytes())
}

fn parse_report_slice(file: &str, bytes: &[u8]) -> Result<Report, ReadError> {
    match serde_json::from_slice::<Report>(bytes) {
        Ok(report) => check_version(file, report),
        Err(err) => Err(explain(
            file,
            err,
            serde_json::from_slice::<VersionProbe>(bytes),
        )),
    }
}

/// A report that parsed is still refused when it is of another schema version.
fn check_version(file: &str, mut report: Report) -> Result<Report, ReadError> {
    if report.schema_version == SCHEMA_VERSION {
        // The reader grows the key list by doubling; return the unused part (a large share of
        // the memory of `kms-audit report` over a 100,000-key scan).
        report.inventory.keys.shrink_to_fit();
        report.inventory.share_equal_policies();
        Ok(report)
    } else {
        Err(version_error(file, &report.schema_version))
    }
}

/// The message for a report that did not parse as a [`Report`]: the JSON syntax error if it is
/// not JSON; the schema version if it is missing or another; else the typed error, whose line
/// and column point at the problem.
fn explain(
    file: &str,
    typed: serde_json::Error,
    probe: serde_json::Result<VersionProbe>,
) -> ReadError {
    let invalid = |message: String| ReadError::Invalid {
        file: file.to_string(),
        message,
    };
    match probe {
        Err(syntax) => invalid(syntax.to_string()),
        Ok(VersionProbe(None)) => invalid("no schema_version field".to_string()),
        Ok(VersionProbe(Some(found))) if found != SCHEMA_VERSION => version_error(file, &found),
        Ok(VersionProbe(Some(_))) => invalid(plain_words(&typed.to_string())),
    }
}

fn version_error(file: &str, found: &str) -> ReadError {
    ReadError::Version {
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
    }
}

/// The top-level `schema_version` string of any JSON document (`None` when the document is not
/// an object, or the field is absent or not a string); everything else is skipped unread.
struct VersionProbe(Option<String>);

impl<'de> de::Deserialize<'de> for VersionProbe {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ProbeVisitor)
    }
}

struct ProbeVisitor;

/// A string, or `None` for any other JSON value.
struct MaybeString(Option<String>);

impl<'de> de::Deserialize<'de> for MaybeString {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(MaybeString(value.as_str().map(str::to_string)))
    }
}

impl<'de> Visitor<'de> for ProbeVisitor {
    type Value = VersionProbe;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VersionProbe, A::Error> {
        let mut version = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "schema_version" {
                // The last one wins, as in a `serde_json::Value`.
                version = map.next_value::<MaybeString>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(VersionProbe(version))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VersionProbe, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(VersionProbe(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<VersionProbe, E> {
        Ok(VersionProbe(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<VersionProbe, E> {
        Ok(VersionProbe(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<VersionProbe, E> {
        Ok(VersionProbe(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<VersionProbe, E> {
        Ok(VersionProbe(None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<VersionProbe, E> {
        Ok(VersionProbe(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<VersionProbe, E> {
        Ok(VersionProbe(None))
    }
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
