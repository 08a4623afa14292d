//! Reading a saved JSON report back: `kms-audit report`, `merge`, `publish` and `--baseline`.
//! The report is written by [`crate::report::json`]; its JSON Schema is
//! `reports/kms-audit-report.schema.json`.

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::compact_json::TextInterner;
use super::{KeyRecord, Report, SCHEMA_VERSION, parallel};

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

/// Reads a JSON report (`-` reads standard input).
///
/// The file is read whole and its keys are parsed on every core ([`parse_in_parallel`]): at
/// 100,000 keys, parsing is most of the time of `kms-audit report`. The text is freed once the
/// report is built, before the analysis, whose memory is the run's peak.
pub fn read_report(path: &Path) -> Result<Report, ReadError> {
    let file = path.display().to_string();
    let io_error = |error| ReadError::Io {
        file: file.clone(),
        error,
    };
    let bytes = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        bytes
    } else {
        std::fs::read(path).map_err(io_error)?
    };
    parse_report_slice(&file, &bytes)
}

/// Parses the text of a JSON report named `file`; an incompatible report gets the schema version
/// message rather than a missing-field error.
pub fn parse_report(file: &str, text: &str) -> Result<Report, ReadError> {
    parse_report_slice(file, text.as_bytes())
}

fn parse_report_slice(file: &str, bytes: &[u8]) -> Result<Report, ReadError> {
    if let Some(report) = parse_in_parallel(bytes) {
        return check_version(file, report);
    }
    // Not a valid report (or one without keys): parsed in one pass, whose error names the line
    // and column of the problem.
    match serde_json::from_slice::<Report>(bytes) {
        Ok(report) => check_version(file, report),
        Err(err) => Err(explain(
            file,
            err,
            serde_json::from_slice::<VersionProbe>(bytes),
        )),
    }
}

/// The report in `bytes` with its `inventory.keys` parsed on every core, or `None` when the
/// report does not parse (the caller parses it again in one pass for the error) or has no keys.
///
/// A first pass only finds where each key's JSON is (serde_json checks the syntax of the whole
/// document as it skips it); the report around the key list is then parsed as an ordinary
/// report with an empty list, and the keys on their threads, each sharing its equal policies.
fn parse_in_parallel(bytes: &[u8]) -> Option<Report> {
    #[derive(serde::Deserialize)]
    struct KeyTexts<'a> {
        #[serde(borrow)]
        inventory: InventoryKeyTexts<'a>,
    }
    #[derive(serde::Deserialize)]
    struct InventoryKeyTexts<'a> {
        #[serde(borrow)]
        keys: Vec<&'a RawValue>,
    }
    let texts = serde_json::from_slice::<KeyTexts<'_>>(bytes)
        .ok()?
        .inventory
        .keys;
    let start_of = |raw: &RawValue| (raw.get().as_ptr() as usize) - (bytes.as_ptr() as usize);
    let first = start_of(texts.first()?);
    let last = texts.last()?;
    let end = start_of(last) + last.get().len();
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    // The brackets of the key list: only whitespace lies between them and its first and last key.
    let open = first
        - 1
        - bytes[..first]
            .iter()
            .rev()
            .take_while(|b| is_space(b))
            .count();
    let close = end + bytes[end..].iter().take_while(|b| is_space(b)).count();
    if bytes.get(open) != Some(&b'[') || bytes.get(close) != Some(&b']') {
        return None;
    }
    let mut outline = Vec::with_capacity(bytes.len() - (close - open) + 1);
    outline.extend_from_slice(&bytes[..=open]);
    outline.extend_from_slice(&bytes[close..]);
    let mut report = serde_json::from_slice::<Report>(&outline).ok()?;
    if !report.inventory.keys.is_empty() {
        return None;
    }
    report.inventory.keys = parallel::try_fill_chunks(&texts, |texts, keys: &mut [KeyRecord]| {
        let mut interner = TextInterner::default();
        for (text, key) in texts.iter().zip(keys) {
            *key = serde_json::from_str::<KeyRecord>(text.get())?;
            if let Some(policy) = &mut key.policy {
                policy.share_with(&mut interner);
            }
        }
        Ok::<(), serde_json::Error>(())
    })
    .ok()?;
    Some(report)
}

/// A report that parsed is still refused when it is of another schema version.
fn check_version(file: &str, mut report: Report) -> Result<Report, ReadError> {
    if report.schema_version == SCHEMA_VERSION {
        // A report parsed in one pass grows the key list by doubling; return the unused part (a
        // large share of the memory of `kms-audit report` over a 100,000-key scan).
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

    /// A report of `keys` keys (two threads' worth from 1,024), some sharing a policy.
    fn report_text(keys: usize, pretty: bool) -> String {
        let keys: Vec<serde_json::Value> = (0..keys)
            .map(|i| {
                serde_json::json!({
                    "arn": format!("arn:aws:kms:eu-west-1:111122223333:key/k-{i}"),
                    "key_id": format!("k-{i}"),
                    "account": "111122223333",
                    "region": "eu-west-1",
                    "policy": {"Version": "2012-10-17", "Id": format!("p-{}", i % 7)},
                    "tags": {"owner": format!("team \"{i}\"")},
                })
            })
            .collect();
        let report = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "kms-audit", "version": "0"},
            "started_at": "2026-01-01T00:00:00Z",
            "finished_at": "2026-01-01T00:00:00Z",
            "targets": [],
            "coverage_gaps": [],
            "inventory": {"keys": keys},
            "findings": [],
            "summary": {"keys": 0, "findings": {}, "accounts": 0, "regions": 0, "gaps": 0,
                        "duration_ms": 0, "api_calls": {}},
        });
        if pretty {
            serde_json::to_string_pretty(&report).expect("json")
        } else {
            report.to_string()
        }
    }

    #[test]
    fn keys_parsed_on_every_core_are_the_keys_of_one_pass() {
        for (keys, pretty) in [(1, false), (3, true), (1500, false), (2049, true)] {
            let text = report_text(keys, pretty);
            let parallel = parse_in_parallel(text.as_bytes()).expect("parses in parallel");
            let one_pass: Report = serde_json::from_str(&text).expect("parses in one pass");
            assert_eq!(parallel.inventory.keys.len(), keys);
            assert_eq!(parallel, one_pass, "{keys} keys, pretty: {pretty}");
            // Equal policies parsed on one thread share their text.
            if keys > 7 {
                let policies: std::collections::HashSet<*const u8> = parallel
                    .inventory
                    .keys
                    .iter()
                    .filter_map(|k| k.policy.as_ref())
                    .map(|p| p.json().as_ptr())
                    .collect();
                assert!(policies.len() <= 7 * crate::model::parallel::threads());
            }
        }
    }

    #[test]
    fn a_broken_key_is_reported_where_it_is_in_the_file() {
        let text = report_text(1500, true);
        // The 1,201st key's region becomes a number: the error names its line in the file.
        let needle = "\"key_id\": \"k-1200\"";
        let at = text.find(needle).expect("key 1200");
        let region = at + text[at..].find("\"eu-west-1\"").expect("its region");
        let broken = format!("{}42{}", &text[..region], &text[region + 11..]);
        let line = broken[..region].matches('\n').count() + 1;
        assert!(parse_in_parallel(broken.as_bytes()).is_none());
        let err = parse_report("x.json", &broken).unwrap_err().to_string();
        assert!(
            err.starts_with("x.json is not a kms-audit JSON report: invalid type: integer `42`")
                && err.contains(&format!("at line {line} column")),
            "{err}"
        );
        // A syntax error anywhere: the one-pass parse reports it.
        let cut = &text[..text.len() / 2];
        let err = parse_report("x.json", cut).unwrap_err().to_string();
        assert!(err.contains("EOF while parsing"), "{err}");
    }
}
