//! The config file (`--config kms-audit.yaml`, docs/config.md).
//!
//! ```yaml
//! trusted_accounts: ["222222222222"]     # partners whose access is expected (POL002, GRT001)
//! organization_id: o-abc123def4          # else the organization found by --org
//! max_rotation_period_days: 365          # ROT002 (90..=2560)
//! required_tags: [owner, data-classification]   # TAG001 (off when empty)
//! report_unmanaged: false                # DRF006
//! checks:                                # per check, by id or name
//!   ROT001: {enabled: false}
//!   untrusted-grantee: {severity: critical}
//! concurrency: 16                        # default for --concurrency
//! regions: [us-east-1, eu-west-1]        # default for --regions
//! ```
//!
//! The file is loaded and validated before any AWS call. Every error names the file, the line
//! and column, and the field (`checks.ROT001.severity`); unknown keys are errors.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use crate::catalog::Catalog;
use crate::model::{Finding, Severity};

/// `max_rotation_period_days` when the config does not set it.
pub const DEFAULT_MAX_ROTATION_PERIOD_DAYS: u32 = 365;
/// The range AWS accepts for `RotationPeriodInDays`.
pub const ROTATION_PERIOD_RANGE: std::ops::RangeInclusive<u32> = 90..=2560;

/// The validated config. `Config::default()` is what kms-audit uses without `--config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where it was read from (`None`: defaults).
    pub source: Option<PathBuf>,
    /// Accounts whose access to keys is expected (never reported by POL002 / GRT001).
    pub trusted_accounts: BTreeSet<String>,
    /// The organization whose member accounts are trusted by POL002; overrides the one found
    /// by `--org`.
    pub organization_id: Option<String>,
    pub max_rotation_period_days: u32,
    /// Tag keys every customer-managed key must carry (TAG001; off when empty).
    pub required_tags: Vec<String>,
    /// Report live keys no spec declares (DRF006).
    pub report_unmanaged: bool,
    /// Per-check overrides, keyed by check id (names are resolved to ids when loading).
    pub checks: BTreeMap<String, CheckOverride>,
    /// Default for `--concurrency`.
    pub concurrency: Option<u32>,
    /// Default for `--regions`.
    pub regions: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: None,
            trusted_accounts: BTreeSet::new(),
            organization_id: None,
            max_rotation_period_days: DEFAULT_MAX_ROTATION_PERIOD_DAYS,
            required_tags: Vec::new(),
            report_unmanaged: false,
            checks: BTreeMap::new(),
            concurrency: None,
            regions: Vec::new(),
        }
    }
}

/// `checks: {ID: {enabled, severity}}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOverride {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
}

impl Config {
    /// Whether a check runs (every check does unless the config turns it off).
    pub fn is_enabled(&self, check_id: &str) -> bool {
        self.checks
            .get(check_id)
            .and_then(|o| o.enabled)
            .unwrap_or(true)
    }

    /// The severity override for a check, if any.
    pub fn severity_override(&self, check_id: &str) -> Option<Severity> {
        self.checks.get(check_id).and_then(|o| o.severity)
    }

    /// Drops findings of disabled checks and applies severity overrides. Applies to every
    /// finding, compliance checks and drift alike.
    pub fn apply_overrides(&self, findings: &mut Vec<Finding>) {
        findings.retain(|f| self.is_enabled(&f.check_id));
        for finding in findings.iter_mut() {
            if let Some(severity) = self.severity_override(&finding.check_id) {
                finding.severity = severity;
            }
        }
    }
}

/// A config file that cannot be used. Displayed as one line:
/// `config file kms-audit.yaml, line 3, column 5, field checks.ROT001.sev: unknown field …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub file: String,
    /// 1-based; `None` when the error is not tied to a place (e.g. the file cannot be read).
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Dotted path of the offending field (`checks.ROT001.severity`, `trusted_accounts[1]`).
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid config file {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
            if let Some(column) = self.column {
                write!(f, ", column {column}")?;
            }
        }
        // Values quoted in the message may hold line breaks: the error stays on one line.
        if let Some(field) = &self.field {
            write!(f, ", field `{}`", crate::inputs::yaml::printable(field))?;
        }
        write!(f, ": {}", crate::inputs::yaml::printable(&self.message))
    }
}

/// Reads and validates a config file; `catalog` holds the checks its `checks:` may name.
pub fn load(path: &Path, catalog: &Catalog) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = crate::inputs::input::read_text(path, crate::inputs::input::SETTINGS_LIMIT)
        .map_err(|err| ConfigError {
            file: file.clone(),
            line: None,
            column: None,
            field: None,
            message: format!("cannot read it: {err}"),
        })?;
    let mut config = parse(&text, &file, catalog)?;
    config.source = Some(path.to_path_buf());
    Ok(config)
}

/// Parses and validates config text; `file` names it in errors, `catalog` holds the checks its
/// `checks:` may name.
pub fn parse(text: &str, file: &str, catalog: &Catalog) -> Result<Config, ConfigError> {
    // An empty file (or one with only comments) is a valid config with every default.
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Config::default());
    }
    let raw: RawConfig = crate::inputs::yaml::from_str(text).map_err(|err| {
        let location = crate::inputs::yaml::location(&err);
        let field = location.and_then(|(line, column)| field_at(text, line, column));
        ConfigError {
            file: file.to_string(),
            line: location.map(|(line, _)| line),
            column: location.map(|(_, column)| column),
            field,
            message: crate::inputs::yaml::message(&err),
        }
    })?;
    raw.validate(file, catalog)
}

// --- the file as written ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    trusted_accounts: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    organization_id: Option<Spanned<String>>,
    #[serde(default)]
    max_rotation_period_days: Option<Spanned<u32>>,
    #[serde(default)]
    required_tags: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    report_unmanaged: Option<bool>,
    #[serde(default)]
    checks: Option<SpannedMap<RawOverride>>,
    #[serde(default)]
    concurrency: Option<Spanned<u32>>,
    #[serde(default)]
    regions: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    severity: Option<Spanned<String>>,
}

/// A mapping whose keys keep their location (for "unknown check" errors), in file order.
#[derive(Debug)]
struct SpannedMap<V>(Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SpannedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = SpannedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of check ids or names to {enabled, severity}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<V>()?;
                    entries.push((key, value));
                }
                Ok(SpannedMap(entries))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(SpannedMap(Vec::new()))
            }
        }
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// Builds the errors of one config file.
struct Errors<'a> {
    file: &'a str,
}

impl Errors<'_> {
    fn at(&self, at: &serde_saphyr::Location, field: String, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: Some(at.line()),
            column: Some(at.column()),
            field: Some(field),
            message,
        }
    }
}

impl RawConfig {
    /// Every field checked in file order; the first error stops (it names its line and field).
    fn validate(self, file: &str, catalog: &Catalog) -> Result<Config, ConfigError> {
        let errors = Errors { file };
        let trusted_accounts = trusted_accounts(self.trusted_accounts, &errors)?;
        let organization_id = organization_id(self.organization_id, &errors)?;
        let max_rotation_period_days = max_rotation_period(self.max_rotation_period_days, &errors)?;
        let required_tags = required_tags(self.required_tags, &errors)?;
        let checks = check_overrides(self.checks, catalog, &errors)?;
        let concurrency = concurrency(self.concurrency, &errors)?;
        let regions = regions(self.regions, &errors)?;
        let config = Config {
            source: None,
            trusted_accounts,
            organization_id,
            max_rotation_period_days: max_rotation_period_days
                .unwrap_or(DEFAULT_MAX_ROTATION_PERIOD_DAYS),
            required_tags,
            report_unmanaged: self.report_unmanaged.unwrap_or(false),
            checks,
            concurrency,
            regions,
        };
        Ok(config)
    }
}

fn trusted_accounts(
    accounts: Option<Vec<Spanned<String>>>,
    errors: &Errors<'_>,
) -> Result<BTreeSet<String>, ConfigError> {
    let mut trusted = BTreeSet::new();
    for (i, account) in accounts.into_iter().flatten().enumerate() {
        let id = account.value.trim();
        if !crate::policy::is_account_id(id) {
            return Err(errors.at(
                &account.referenced,
                format!("trusted_accounts[{i}]"),
                format!("'{}' is not an AWS account id (12 digits)", account.value),
            ));
        }
        trusted.insert(id.to_string());
    }
    Ok(trusted)
}

fn organization_id(
    org: Option<Spanned<String>>,
    errors: &Errors<'_>,
) -> Result<Option<String>, ConfigError> {
    let Some(org) = org else { return Ok(None) };
    if !is_organization_id(&org.value) {
        return Err(errors.at(
            &org.referenced,
            "organization_id".into(),
            format!(
                "'{}' is not an AWS Organizations id (o- followed by 10 to 32 lower-case letters or digits)",
                org.value
            ),
        ));
    }
    Ok(Some(org.value))
}

fn max_rotation_period(
    days: Option<Spanned<u32>>,
    errors: &Errors<'_>,
) -> Result<Option<u32>, ConfigError> {
    let Some(days) = days else { return Ok(None) };
    if !ROTATION_PERIOD_RANGE.contains(&days.value) {
        return Err(errors.at(
            &days.referenced,
            "max_rotation_period_days".into(),
            format!(
                "{} is outside the rotation periods AWS allows ({} to {} days)",
                days.value,
                ROTATION_PERIOD_RANGE.start(),
                ROTATION_PERIOD_RANGE.end()
            ),
        ));
    }
    Ok(Some(days.value))
}

fn required_tags(
    tags: Option<Vec<Spanned<String>>>,
    errors: &Errors<'_>,
) -> Result<Vec<String>, ConfigError> {
    let mut required: Vec<String> = Vec::new();
    for (i, tag) in tags.into_iter().flatten().enumerate() {
        let field = format!("required_tags[{i}]");
        if tag.value.is_empty() || tag.value.chars().count() > 128 {
            return Err(errors.at(
                &tag.referenced,
                field,
                "a tag key is 1 to 128 characters".into(),
            ));
        }
        if tag.value.to_ascii_lowercase().starts_with("aws:") {
            return Err(errors.at(
                &tag.referenced,
                field,
                format!(
                    "'{}': tag keys starting with aws: are reserved for AWS and cannot be set on keys",
                    tag.value
                ),
            ));
        }
        if required.contains(&tag.value) {
            return Err(errors.at(
                &tag.referenced,
                field,
                format!("'{}' is listed twice", tag.value),
            ));
        }
        required.push(tag.value);
    }
    Ok(required)
}

fn check_overrides(
    checks: Option<SpannedMap<RawOverride>>,
    catalog: &Catalog,
    errors: &Errors<'_>,
) -> Result<BTreeMap<String, CheckOverride>, ConfigError> {
    let mut overrides = BTreeMap::new();
    for (key, raw) in checks.map(|m| m.0).into_iter().flatten() {
        let Some(meta) = catalog.lookup(&key.value) else {
            return Err(errors.at(
                &key.referenced,
                format!("checks.{}", key.value),
                format!(
                    "unknown check '{}' (run `kms-audit checks` for the ids and names)",
                    key.value
                ),
            ));
        };
        let severity = match raw.severity {
            None => None,
            Some(s) => Some(s.value.parse::<Severity>().map_err(|msg| {
                errors.at(&s.referenced, format!("checks.{}.severity", key.value), msg)
            })?),
        };
        let entry = CheckOverride {
            enabled: raw.enabled,
            severity,
        };
        if overrides.insert(meta.id.clone(), entry).is_some() {
            return Err(errors.at(
                &key.referenced,
                format!("checks.{}", key.value),
                format!(
                    "check {} ({}) is configured twice (by id and by name)",
                    meta.id, meta.name
                ),
            ));
        }
    }
    Ok(overrides)
}

fn concurrency(n: Option<Spanned<u32>>, errors: &Errors<'_>) -> Result<Option<u32>, ConfigError> {
    let Some(n) = n else { return Ok(None) };
    if !(1..=1024).contains(&n.value) {
        return Err(errors.at(
            &n.referenced,
            "concurrency".into(),
            format!("{} is outside 1 to 1024", n.value),
        ));
    }
    Ok(Some(n.value))
}

fn regions(
    regions: Option<Vec<Spanned<String>>>,
    errors: &Errors<'_>,
) -> Result<Vec<String>, ConfigError> {
    let mut selected: Vec<String> = Vec::new();
    for (i, region) in regions.into_iter().flatten().enumerate() {
        if crate::model::regions::lookup(&region.value).is_none() {
            return Err(errors.at(
                &region.referenced,
                format!("regions[{i}]"),
                format!(
                    "unknown region '{}': use AWS region codes such as us-east-1 or eu-west-1",
                    region.value
                ),
            ));
        }
        if !selected.contains(&region.value) {
            selected.push(region.value);
        }
    }
    Ok(selected)
}

fn is_organization_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

// --- naming the field at an error location ------------------------------------------------

/// The dotted path (`checks.ROT001.enabled`, `trusted_accounts[2]`) of the YAML node (key or
/// value) that starts at `line`:`column` (1-based), found by replaying the parser's events.
fn field_at(text: &str, line: u64, column: u64) -> Option<String> {
    use serde_saphyr::granit_parser::{Event, Parser};

    enum Frame {
        Map { key: Option<String> },
        Seq { index: usize },
    }
    fn path(stack: &[Frame]) -> String {
        let mut out = String::new();
        for frame in stack {
            match frame {
                Frame::Map { key: Some(key) } => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Frame::Map { key: None } => {}
                Frame::Seq { index } => out.push_str(&format!("[{index}]")),
            }
        }
        out
    }
    /// A value node ended: the parent mapping expects a key next, a sequence its next item.
    fn value_done(stack: &mut [Frame]) {
        match stack.last_mut() {
            Some(Frame::Map { key }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }

    let mut stack: Vec<Frame> = Vec::new();
    // A block collection starts where its first key does: prefer the key, else the collection.
    let mut collection: Option<String> = None;
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else {
            break;
        };
        let here = span.start.line() as u64 == line && span.start.col() as u64 + 1 == column;
        match event {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { key: key @ None }) = stack.last_mut() {
                    *key = Some(value.to_string());
                    if here {
                        return Some(path(&stack));
                    }
                } else {
                    if here {
                        return Some(path(&stack)).filter(|p| !p.is_empty());
                    }
                    value_done(&mut stack);
                }
            }
            Event::Alias(_) => {
                if here {
                    return Some(path(&stack)).filter(|p| !p.is_empty());
                }
                value_done(&mut stack);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if here && collection.is_none() {
                    collection = Some(path(&stack)).filter(|p| !p.is_empty());
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map { key: None }
                } else {
                    Frame::Seq { index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            _ => {}
        }
    }
    collection
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog_file;

    /// The checks these tests name (the build's catalog is assembled above this wing).
    fn catalog() -> Catalog {
        Catalog::from_files(&[
            catalog_file!("ROT001"),
            catalog_file!("ROT002"),
            catalog_file!("GRT001"),
            catalog_file!("ALI001"),
            catalog_file!("TAG001"),
            catalog_file!("DRF004"),
        ])
    }

    fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        super::parse(text, file, &catalog())
    }

    fn err(text: &str) -> ConfigError {
        parse(text, "kms-audit.yaml").expect_err("invalid config")
    }

    #[test]
    fn a_full_config_is_read() {
        let config = parse(
            "# audit settings\n\
             trusted_accounts: [\"222222222222\", '012345678901']\n\
             organization_id: o-abc123def4\n\
             max_rotation_period_days: 180\n\
             required_tags:\n  - owner\n  - data-classification\n\
             report_unmanaged: true\n\
             checks:\n  ROT001: {enabled: false}\n  untrusted-grantee:\n    severity: Critical\n\
             concurrency: 16\n\
             regions: [us-east-1, eu-west-1]\n",
            "kms-audit.yaml",
        )
        .expect("valid");
        assert_eq!(
            config.trusted_accounts,
            BTreeSet::from(["012345678901".to_string(), "222222222222".to_string()])
        );
        assert_eq!(config.organization_id.as_deref(), Some("o-abc123def4"));
        assert_eq!(config.max_rotation_period_days, 180);
        assert_eq!(config.required_tags, ["owner", "data-classification"]);
        assert!(config.report_unmanaged);
        assert!(!config.is_enabled("ROT001"));
        assert!(config.is_enabled("ROT002"));
        assert_eq!(config.severity_override("GRT001"), Some(Severity::Critical));
        assert_eq!(config.concurrency, Some(16));
        assert_eq!(config.regions, ["us-east-1", "eu-west-1"]);
    }

    #[test]
    fn unquoted_account_ids_keep_their_leading_zeros() {
        let config =
            parse("trusted_accounts: [012345678901, 222222222222]\n", "c.yaml").expect("valid");
        assert!(config.trusted_accounts.contains("012345678901"));
    }

    #[test]
    fn empty_and_comment_only_files_are_the_defaults() {
        assert_eq!(parse("", "c.yaml").expect("empty"), Config::default());
        assert_eq!(
            parse("# nothing yet\n\n", "c.yaml").expect("comments"),
            Config::default()
        );
        assert_eq!(
            parse("checks: {}\n", "c.yaml").expect("empty checks"),
            Config::default()
        );
        assert_eq!(Config::default().max_rotation_period_days, 365);
    }

    #[test]
    fn unknown_top_level_key_names_line_and_field() {
        let e = err("trusted_accounts: []\nmax_rotation: 3\n");
        assert_eq!((e.line, e.column), (Some(2), Some(1)));
        assert_eq!(e.field.as_deref(), Some("max_rotation"));
        assert!(e.message.contains("unknown field `max_rotation`"), "{e}");
        assert_eq!(
            e.to_string(),
            "invalid config file kms-audit.yaml, line 2, column 1, field `max_rotation`: \
             unknown field `max_rotation`, expected one of trusted_accounts, organization_id, \
             max_rotation_period_days, required_tags, report_unmanaged, checks, concurrency, regions"
        );
    }

    #[test]
    fn unknown_nested_key_names_its_path() {
        let e = err("checks:\n  ROT001:\n    sev: high\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("checks.ROT001.sev"));
        assert!(
            e.message.contains("expected one of enabled, severity"),
            "{e}"
        );
    }

    #[test]
    fn type_errors_name_the_field() {
        let e = err("max_rotation_period_days: abc\n");
        assert_eq!(e.line, Some(1));
        assert_eq!(e.field.as_deref(), Some("max_rotation_period_days"));
        let e = err("checks:\n  ROT001:\n    enabled: maybe\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("checks.ROT001.enabled"));
        let e = err("trusted_accounts: 123456789012\n");
        assert_eq!(e.field.as_deref(), Some("trusted_accounts"));
        let e = err("required_tags:\n  - owner\n  - {a: b}\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("required_tags[1]"));
    }

    #[test]
    fn bad_values_name_line_and_field() {
        let e = err("trusted_accounts:\n  - \"222222222222\"\n  - \"12345\"\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("trusted_accounts[1]"));
        assert!(
            e.message.contains("'12345' is not an AWS account id"),
            "{e}"
        );

        let e = err("organization_id: org-1\n");
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(1), Some("organization_id"))
        );

        let e = err("max_rotation_period_days: 3000\n");
        assert!(e.message.contains("90 to 2560"), "{e}");
        let e = err("max_rotation_period_days: 89\n");
        assert_eq!(e.field.as_deref(), Some("max_rotation_period_days"));

        let e = err("\nchecks:\n  ROT999: {enabled: false}\n");
        assert_eq!((e.line, e.column), (Some(3), Some(3)));
        assert_eq!(e.field.as_deref(), Some("checks.ROT999"));
        assert!(e.message.contains("unknown check 'ROT999'"), "{e}");

        let e = err("checks:\n  ROT001:\n    severity: urgent\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("checks.ROT001.severity"));
        assert!(e.message.contains("unknown severity 'urgent'"), "{e}");

        let e = err("checks:\n  ROT001: {enabled: false}\n  rotation-disabled: {enabled: true}\n");
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("configured twice"), "{e}");

        let e = err("required_tags: [owner, owner]\n");
        assert_eq!(e.field.as_deref(), Some("required_tags[1]"));
        let e = err("required_tags: ['aws:cloudformation:stack-name']\n");
        assert!(e.message.contains("reserved"), "{e}");

        let e = err("concurrency: 0\n");
        assert_eq!(e.field.as_deref(), Some("concurrency"));
        let e = err("regions: [us-east-1, mars-north-1]\n");
        assert_eq!(e.field.as_deref(), Some("regions[1]"));
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = err("checks:\n  ROT001: {enabled: false\n");
        assert!(e.line.is_some(), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("invalid config file kms-audit.yaml, line ")
        );
        let e = err("- just\n- a list\n");
        assert!(e.line.is_some(), "{e:?}");
    }

    #[test]
    fn checks_by_name_resolve_to_ids_and_overrides_apply_to_findings() {
        let config = parse(
            "checks:\n  no-alias: {enabled: false}\n  DRF004: {severity: high}\n",
            "c.yaml",
        )
        .expect("valid");
        assert!(!config.is_enabled("ALI001"));
        let finding = |id: &str| Finding {
            check_id: id.into(),
            name: Default::default(),
            severity: Severity::Low,
            account: Default::default(),
            region: Default::default(),
            key_arn: None,
            resource: None,
            keys: None,
            aliases: vec![],
            message: String::new(),
            evidence: serde_json::Value::Null.into(),
            remediation: String::new(),
            fingerprint: String::new(),
            spec: None,
            suppressed: None,
            baseline: None,
        };
        let mut findings = vec![finding("ALI001"), finding("DRF004"), finding("TAG001")];
        config.apply_overrides(&mut findings);
        let got: Vec<(&str, Severity)> = findings
            .iter()
            .map(|f| (f.check_id.as_str(), f.severity))
            .collect();
        assert_eq!(got, [("DRF004", Severity::High), ("TAG001", Severity::Low)]);
    }

    #[test]
    fn the_example_config_is_valid() {
        let config = parse(
            include_str!("../../examples/kms-audit.yaml"),
            "examples/kms-audit.yaml",
        )
        .expect("examples/kms-audit.yaml is valid");
        assert_eq!(config.required_tags, ["owner", "data-classification"]);
        assert!(!config.is_enabled("ALI001"));
        assert_eq!(config.severity_override("GRT001"), Some(Severity::Critical));
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let e = load(Path::new("/nonexistent/kms-audit.yaml"), &catalog()).expect_err("missing");
        assert!(e.line.is_none());
        assert!(
            e.to_string()
                .starts_with("invalid config file /nonexistent/kms-audit.yaml: cannot read it"),
            "{e}"
        );
    }

    #[test]
    fn a_line_break_in_a_value_keeps_the_error_on_one_line() {
        // Found by tests/fuzz_parsers.rs.
        let text = err("organization_id: \"o-abc\\nx\"\n").to_string();
        assert_eq!(
            text,
            "invalid config file kms-audit.yaml, line 1, column 18, field `organization_id`: \
             'o-abc\\nx' is not an AWS Organizations id (o- followed by 10 to 32 lower-case \
             letters or digits)"
        );
        let text = err("checks:\n  \"a\\nb\": {enabled: false}\n").to_string();
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
