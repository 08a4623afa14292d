//! Suppressions (`--suppressions FILE`): accepted findings that stay in the report but do not
//! fail the run, each with a reason and an expiry date.
//!
//! ```yaml
//! suppressions:
//!   - check: ROT001                 # id or name
//!     key: alias/legacy-*           # key ARN, key id or alias; glob allowed; optional
//!     account: "111111111111"       # optional (glob allowed)
//!     region: us-east-1             # optional (glob allowed)
//!     reason: Imported key material, rotated by hand
//!     expires: 2027-01-31           # required; the last day the suppression holds (UTC)
//! ```
//!
//! A matching entry that has not expired sets the finding's `suppressed` (reason, expires): it stays
//! in the JSON, SARIF (as a SARIF suppression) and the other reports, is not counted in the summary
//! and does not fail the run. An expired entry no longer suppresses: the finding is reported as if
//! the entry were not there, and an extra `SUP001 expired-suppression` finding (severity low, a
//! warning in SARIF) on the same key points at the entry's file and line, so the stale entry is
//! reviewed. `SUP001` is not a check of the catalog (it inspects the suppressions file, not a key);
//! its documentation is [`expired_meta`].

use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::json;
use time::Date;
use time::macros::format_description;

use crate::analysis::finding::fingerprint;
use crate::catalog::{self, CatalogFile, CheckMeta, catalog_file};
use crate::model::{Finding, SpecLocation, Suppressed};

/// The id of the finding raised for an expired suppression. Reserved: no catalog check uses it.
pub const EXPIRED_CHECK_ID: &str = "SUP001";

/// The catalog file of `SUP001`.
pub const EXPIRED_CATALOG: CatalogFile = catalog_file!("SUP001");

static EXPIRED_META: LazyLock<Option<CheckMeta>> =
    LazyLock::new(|| catalog::parse(&EXPIRED_CATALOG));

/// The documentation of the expired-suppression finding (`SUP001`, `checks/SUP001.yaml`).
/// `None` only in a broken build (the catalog tests parse every file).
pub fn expired_meta() -> Option<&'static CheckMeta> {
    EXPIRED_META.as_ref()
}

/// A loaded, validated suppressions file.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppressions {
    /// The file as the user named it (reported in findings and messages).
    pub file: String,
    pub entries: Vec<Suppression>,
}

/// One entry of the suppressions file.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// The catalog id the entry's `check` (id or name) resolves to.
    pub check_id: String,
    pub key: Option<Glob>,
    pub account: Option<Glob>,
    pub region: Option<Glob>,
    pub reason: String,
    /// The last day (UTC) the suppression holds.
    pub expires: Date,
    /// The entry's line in the file.
    pub line: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SuppressionError {
    // The I/O error is part of the message, not a `source`: the CLI prints error chains, and
    // the reason would appear twice.
    #[error("could not read the suppressions file {file}: {error}")]
    Read { file: String, error: std::io::Error },
    #[error("invalid suppressions file {file}: {message}")]
    Invalid { file: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    suppressions: Vec<serde_saphyr::Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    check: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
    reason: String,
    expires: String,
}

impl Suppressions {
    /// Reads and validates a suppressions file (before any AWS call: errors are exit 2).
    pub fn load(path: &Path) -> Result<Suppressions, SuppressionError> {
        let file = path.display().to_string();
        let text = crate::inputs::input::read_text(path, crate::inputs::input::SETTINGS_LIMIT)
            .map_err(|error| SuppressionError::Read {
                file: file.clone(),
                error,
            })?;
        Suppressions::parse(&file, &text)
    }

    /// Parses the text of a suppressions file named `file`.
    pub fn parse(file: &str, text: &str) -> Result<Suppressions, SuppressionError> {
        let invalid = |message: String| SuppressionError::Invalid {
            file: file.to_string(),
            // The values quoted in it may hold line breaks: the error stays on one line.
            message: crate::inputs::yaml::printable(&message),
        };
        let raw: RawFile = if text.trim().is_empty() {
            RawFile {
                suppressions: Vec::new(),
            }
        } else {
            crate::inputs::yaml::from_str(text).map_err(|err| {
                let message = crate::inputs::yaml::message(&err);
                invalid(match crate::inputs::yaml::location(&err) {
                    Some((line, column)) => format!("line {line}, column {column}: {message}"),
                    None => message,
                })
            })?
        };
        let mut entries = Vec::with_capacity(raw.suppressions.len());
        for spanned in raw.suppressions {
            let line = spanned.referenced.line();
            let entry = spanned.value;
            let at = |message: String| invalid(format!("line {line}: {message}"));
            let check = crate::analysis::catalog()
                .lookup(entry.check.trim())
                .ok_or_else(|| {
                    at(format!(
                        "unknown check '{}' (see `kms-audit checks` for ids and names)",
                        entry.check
                    ))
                })?;
            if entry.reason.trim().is_empty() {
                return Err(at("`reason` must say why the finding is accepted".into()));
            }
            let expires = parse_date(entry.expires.trim()).ok_or_else(|| {
                at(format!(
                    "`expires` must be a date YYYY-MM-DD, got '{}'",
                    entry.expires
                ))
            })?;
            let glob = |field: &str, value: Option<String>| match value {
                Some(v) if v.trim().is_empty() => Err(at(format!(
                    "`{field}` is empty (leave it out to match any)"
                ))),
                Some(v) => Ok(Some(Glob::new(v.trim()))),
                None => Ok(None),
            };
            entries.push(Suppression {
                check_id: check.id.clone(),
                key: glob("key", entry.key)?,
                account: glob("account", entry.account)?,
                region: glob("region", entry.region)?,
                reason: entry.reason.trim().to_string(),
                expires,
                line,
            });
        }
        Ok(Suppressions {
            file: file.to_string(),
            entries,
        })
    }
}

impl Suppression {
    /// Whether the entry covers the finding: same check, and every given pattern matches
    /// (`key` against the key ARN, the key id and each alias; for a finding on an IAM policy,
    /// against its resource ARN).
    pub fn matches(&self, finding: &Finding) -> bool {
        if self.check_id != finding.check_id {
            return false;
        }
        let account = self
            .account
            .as_ref()
            .is_none_or(|g| g.is_match(&finding.account));
        let region = self
            .region
            .as_ref()
            .is_none_or(|g| g.is_match(&finding.region));
        let key = self.key.as_ref().is_none_or(|g| {
            finding
                .key_arn
                .iter()
                .chain(&finding.resource)
                .map(String::as_str)
                .chain(crate::model::arn::key_id(finding))
                .chain(finding.aliases.iter().map(String::as_str))
                .any(|candidate| g.is_match(candidate))
        });
        account && region && key
    }

    /// Expired once `today` is after the `expires` day.
    pub fn is_expired(&self, today: Date) -> bool {
        today > self.expires
    }

    fn describe(&self) -> serde_json::Value {
        json!({
            "check": self.check_id,
            "key": self.key.as_ref().map(Glob::as_str),
            "account": self.account.as_ref().map(Glob::as_str),
            "region": self.region.as_ref().map(Glob::as_str),
            "reason": self.reason,
            "expires": format_date(self.expires),
        })
    }

    /// The entry's identity for fingerprints: its patterns, not its line, reason or date.
    fn identity(&self) -> String {
        let pattern = |g: &Option<Glob>| g.as_ref().map_or("", Glob::as_str).to_string();
        [
            self.check_id.clone(),
            pattern(&self.key),
            pattern(&self.account),
            pattern(&self.region),
        ]
        .join("\u{1f}")
    }
}

/// Applies the suppressions to `findings` as of `today`: active entries suppress, expired ones
/// add an `SUP001` finding each. Findings must not carry earlier suppression results.
pub fn apply(findings: &mut Vec<Finding>, suppressions: &Suppressions, today: Date) {
    let mut expired_findings = Vec::new();
    let mut used = vec![false; suppressions.entries.len()];
    for finding in findings.iter_mut() {
        let mut expired: Vec<&Suppression> = Vec::new();
        let mut active: Option<&Suppression> = None;
        for (index, entry) in suppressions.entries.iter().enumerate() {
            if !entry.matches(finding) {
                continue;
            }
            used[index] = true;
            if entry.is_expired(today) {
                expired.push(entry);
            } else if active.is_none() {
                active = Some(entry);
            }
        }
        match active {
            Some(entry) => {
                finding.suppressed = Some(Box::new(Suppressed {
                    reason: entry.reason.clone(),
                    expires: format_date(entry.expires),
                }));
            }
            None => {
                for entry in expired {
                    expired_findings.extend(expired_finding(&suppressions.file, entry, finding));
                }
            }
        }
    }
    for (entry, used) in suppressions.entries.iter().zip(used) {
        if !used {
            tracing::info!(
                file = %suppressions.file,
                line = entry.line,
                "suppression of {} matches no finding of this scan",
                entry.check_id
            );
        }
    }
    findings.extend(expired_findings);
}

/// The `SUP001` finding for an expired entry that matched `finding`.
fn expired_finding(file: &str, entry: &Suppression, finding: &Finding) -> Option<Finding> {
    let meta = expired_meta()?;
    let expires = format_date(entry.expires);
    Some(Finding {
        check_id: meta.id.as_str().into(),
        name: meta.name.as_str().into(),
        severity: meta.severity,
        account: finding.account.clone(),
        region: finding.region.clone(),
        key_arn: finding.key_arn.clone(),
        resource: finding.resource.clone(),
        keys: None,
        aliases: finding.aliases.clone(),
        message: format!(
            "The suppression of {} ({}) expired on {expires}, so the finding is reported again. The reason given was: {}",
            finding.check_id, finding.name, entry.reason
        ),
        evidence: json!({
            "suppression": entry.describe(),
            "file": file,
            "line": entry.line,
            "finding": {"check_id": finding.check_id, "fingerprint": finding.fingerprint},
        })
        .into(),
        remediation: meta.remediation.clone(),
        fingerprint: fingerprint(&meta.id, &finding.fingerprint, &entry.identity()),
        spec: Some(Box::new(SpecLocation {
            file: file.to_string(),
            line: entry.line,
        })),
        suppressed: None,
        baseline: None,
    })
}

/// Today's date in UTC: the day suppressions are judged against.
pub fn today_utc() -> Date {
    time::OffsetDateTime::now_utc().date()
}

pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

pub fn format_date(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// A shell-style pattern: `*` matches any run of characters (`/` included), `?` one character;
/// everything else matches itself, case-sensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob(pattern.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_match(&self, text: &str) -> bool {
        let pattern: Vec<char> = self.0.chars().collect();
        let text: Vec<char> = text.chars().collect();
        // Iterative wildcard matching with backtracking to the last `*` (linear in practice).
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
                p += 1;
                t += 1;
            } else if p < pattern.len() && pattern[p] == '*' {
                star = Some((p, t));
                p += 1;
            } else if let Some((star_p, star_t)) = star {
                p = star_p + 1;
                t = star_t + 1;
                star = Some((star_p, star_t + 1));
            } else {
                return false;
            }
        }
        pattern[p..].iter().all(|c| *c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;
    use time::macros::date;

    fn finding(check: &str, alias: &str) -> Finding {
        let meta = crate::analysis::catalog().lookup(check).expect("catalog");
        Finding {
            check_id: meta.id.as_str().into(),
            name: meta.name.as_str().into(),
            severity: meta.severity,
            account: "111111111111".into(),
            region: "us-east-1".into(),
            key_arn: Some("arn:aws:kms:us-east-1:111111111111:key/1234abcd".into()),
            resource: None,
            keys: None,
            aliases: vec![alias.into()],
            message: "m".into(),
            evidence: json!({}).into(),
            remediation: "r".into(),
            fingerprint: fingerprint(&meta.id, alias, ""),
            spec: None,
            suppressed: None,
            baseline: None,
        }
    }

    const FILE: &str = "\
suppressions:
  - check: ROT001
    key: alias/legacy-*
    account: \"111111111111\"
    reason: Imported key material, rotated by hand
    expires: 2027-01-31
  - check: no-alias
    region: us-*
    reason: Old keys, being retired
    expires: 2024-06-30
";

    #[test]
    fn globs() {
        let g = Glob::new("alias/legacy-*");
        assert!(g.is_match("alias/legacy-db"));
        assert!(g.is_match("alias/legacy-"));
        assert!(!g.is_match("alias/payments"));
        assert!(
            Glob::new("arn:aws:kms:*:111111111111:key/*")
                .is_match("arn:aws:kms:eu-west-1:111111111111:key/abc")
        );
        assert!(Glob::new("us-?ast-1").is_match("us-east-1"));
        assert!(Glob::new("*").is_match(""));
        assert!(!Glob::new("a*b*c").is_match("aXbY"));
        assert!(Glob::new("a*b*c").is_match("aXbYbZc"));
        assert!(Glob::new("exact").is_match("exact"));
        assert!(!Glob::new("exact").is_match("exactly"));
    }

    #[test]
    fn parses_entries_with_lines_and_resolves_names_to_ids() {
        let s = Suppressions::parse("s.yaml", FILE).expect("valid");
        assert_eq!(s.entries.len(), 2);
        assert_eq!(s.entries[0].check_id, "ROT001");
        assert_eq!(s.entries[0].line, 2);
        assert_eq!(s.entries[0].expires, date!(2027 - 01 - 31));
        assert_eq!(s.entries[1].check_id, "ALI001");
        assert_eq!(s.entries[1].line, 7);
        assert_eq!(s.entries[0].account, Some(Glob::new("111111111111")));
    }

    #[test]
    fn empty_file_means_no_suppressions() {
        assert!(
            Suppressions::parse("s.yaml", "")
                .expect("ok")
                .entries
                .is_empty()
        );
        assert!(
            Suppressions::parse("s.yaml", "suppressions: []\n")
                .expect("ok")
                .entries
                .is_empty()
        );
    }

    #[test]
    fn invalid_entries_name_file_line_and_field() {
        let cases = [
            (
                "suppressions:\n  - check: ROT999\n    reason: x\n    expires: 2027-01-01\n",
                "line 2: unknown check 'ROT999'",
            ),
            (
                "suppressions:\n  - check: ROT001\n    reason: \" \"\n    expires: 2027-01-01\n",
                "line 2: `reason`",
            ),
            (
                "suppressions:\n  - check: ROT001\n    reason: x\n    expires: 31/01/2027\n",
                "line 2: `expires` must be a date YYYY-MM-DD, got '31/01/2027'",
            ),
            (
                "suppressions:\n  - check: ROT001\n    reason: x\n    expires: 2027-01-01\n    key: \"\"\n",
                "line 2: `key` is empty",
            ),
        ];
        for (text, needle) in cases {
            let err = Suppressions::parse("s.yaml", text).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid suppressions file s.yaml: "),
                "{err}"
            );
            assert!(err.contains(needle), "'{needle}' in: {err}");
        }
        for (text, needle) in [
            (
                "suppressions:\n  - check: ROT001\n    reason: x\n",
                "expires",
            ),
            (
                "suppressions:\n  - check: ROT001\n    reason: x\n    expires: 2027-01-01\n    keys: a\n",
                "keys",
            ),
            ("supressions: []\n", "supressions"),
        ] {
            let err = Suppressions::parse("s.yaml", text).unwrap_err().to_string();
            assert!(err.contains(needle), "'{needle}' in: {err}");
            assert!(err.contains("line"), "names the line: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn active_entries_suppress_and_expired_ones_are_reported() {
        let s = Suppressions::parse("s.yaml", FILE).expect("valid");
        let mut findings = vec![
            finding("ROT001", "alias/legacy-db"),
            finding("ROT001", "alias/payments"),
            finding("ALI001", "alias/other"),
        ];
        apply(&mut findings, &s, date!(2026 - 03 - 01));
        assert_eq!(
            findings[0].suppressed,
            Some(Box::new(Suppressed {
                reason: "Imported key material, rotated by hand".into(),
                expires: "2027-01-31".into()
            }))
        );
        assert_eq!(findings[1].suppressed, None, "alias does not match");
        assert_eq!(findings[2].suppressed, None, "expired");
        assert_eq!(findings.len(), 4);
        let expired = &findings[3];
        assert_eq!(expired.check_id, "SUP001");
        assert_eq!(expired.name, "expired-suppression");
        assert_eq!(expired.severity, Severity::Low);
        assert_eq!(expired.key_arn, findings[2].key_arn);
        assert_eq!(
            expired.spec,
            Some(Box::new(SpecLocation {
                file: "s.yaml".into(),
                line: 7
            }))
        );
        assert!(
            expired.message.contains("expired on 2024-06-30"),
            "{}",
            expired.message
        );
        assert_eq!(
            expired.evidence["finding"]["fingerprint"],
            json!(findings[2].fingerprint)
        );
        assert_ne!(expired.fingerprint, findings[2].fingerprint);
    }

    #[test]
    fn the_expiry_day_is_the_last_day_suppressed() {
        let s = Suppressions::parse("s.yaml", FILE).expect("valid");
        let mut on_the_day = vec![finding("ROT001", "alias/legacy-db")];
        apply(&mut on_the_day, &s, date!(2027 - 01 - 31));
        assert!(on_the_day[0].suppressed.is_some());
        let mut after = vec![finding("ROT001", "alias/legacy-db")];
        apply(&mut after, &s, date!(2027 - 02 - 01));
        assert!(after[0].suppressed.is_none());
        assert_eq!(after.len(), 2);
    }

    #[test]
    fn key_patterns_match_arn_key_id_or_alias_and_account_region_filter() {
        let mut entry = Suppression {
            check_id: "ROT001".into(),
            key: Some(Glob::new("1234abcd")),
            account: None,
            region: None,
            reason: "r".into(),
            expires: date!(2099 - 01 - 01),
            line: 1,
        };
        let f = finding("ROT001", "alias/app");
        assert!(entry.matches(&f), "key id");
        entry.key = Some(Glob::new("arn:aws:kms:us-east-1:111111111111:key/*"));
        assert!(entry.matches(&f), "arn glob");
        entry.key = Some(Glob::new("alias/app"));
        assert!(entry.matches(&f), "alias");
        entry.account = Some(Glob::new("222222222222"));
        assert!(!entry.matches(&f), "other account");
        entry.account = None;
        entry.region = Some(Glob::new("eu-*"));
        assert!(!entry.matches(&f), "other region");
        entry.region = None;
        entry.check_id = "ROT002".into();
        assert!(!entry.matches(&f), "other check");
    }

    #[test]
    fn expired_findings_have_stable_fingerprints() {
        let s = Suppressions::parse("s.yaml", FILE).expect("valid");
        let run = || {
            let mut f = vec![finding("ALI001", "alias/other")];
            apply(&mut f, &s, date!(2026 - 03 - 01));
            f[1].fingerprint.clone()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn errors_are_one_line_with_the_line_and_column() {
        // Found by tests/fuzz_parsers.rs: a parser error carried its source snippet, flattened
        // onto the line, and a value with a line break broke the message in two.
        let err = Suppressions::parse(
            "s.yaml",
            "suppressions:\n  - check: ROT001\n    reason: r\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "invalid suppressions file s.yaml: line 3, column 5: missing field `expires`"
        );
        let err = Suppressions::parse(
            "s.yaml",
            "suppressions:\n  - {check: \"a\\nb\", reason: r, expires: 2030-01-01}\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "invalid suppressions file s.yaml: line 2: unknown check 'a\\nb' (see `kms-audit checks` \
             for ids and names)"
        );
    }
}
