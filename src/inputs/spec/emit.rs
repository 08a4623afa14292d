//! Writing declared keys as a kms-audit spec (what `kms-audit spec import` prints): the account
//! and region most keys share go to `defaults`, each key names its source in a comment, and
//! policies are written inline as YAML.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::DeclaredKey;

/// The YAML text of a spec holding `keys`; `header` lines become comments at the top.
pub fn to_yaml(keys: &[DeclaredKey], header: &[String]) -> String {
    let mut out = Vec::with_capacity(4096 + keys.len() * 2048);
    // Writing to a Vec cannot fail, and every piece written is a `String`.
    let _ = write_yaml(keys, header, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`to_yaml`], written to `out` key by key: the whole text of a 10,000-key import (about
/// 26 MB) is never held at once.
pub fn write_yaml(
    keys: &[DeclaredKey],
    header: &[String],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut text = String::with_capacity(4096);
    for line in header {
        for part in line.lines() {
            let _ = writeln!(text, "# {}", comment(part));
        }
    }
    let defaults = Defaults {
        account: most_common(keys.iter().map(|k| k.account.as_str())),
        region: most_common(keys.iter().map(|k| k.region.as_str())),
    };
    defaults.write(&mut text);
    if keys.is_empty() {
        text.push_str("keys: []\n");
        return out.write_all(text.as_bytes());
    }
    text.push_str("keys:\n");
    for key in sorted(keys) {
        write_key(&mut text, key, &defaults);
        if text.len() >= 64 * 1024 {
            out.write_all(text.as_bytes())?;
            text.clear();
        }
    }
    out.write_all(text.as_bytes())
}

/// The account and region most keys share: written once under `defaults`, and left out of
/// every key that has them.
struct Defaults<'a> {
    account: Option<&'a str>,
    region: Option<&'a str>,
}

impl Defaults<'_> {
    fn write(&self, out: &mut String) {
        if self.account.is_some() || self.region.is_some() {
            out.push_str("defaults:\n");
            if let Some(account) = self.account {
                let _ = writeln!(out, "  account: {}", quote(account));
            }
            if let Some(region) = self.region {
                let _ = writeln!(out, "  region: {}", scalar(region));
            }
        }
    }
}

/// A stable order whatever the source's: by account and name, a multi-Region primary
/// before its replicas.
fn sorted(keys: &[DeclaredKey]) -> Vec<&DeclaredKey> {
    let mut sorted: Vec<&DeclaredKey> = keys.iter().collect();
    sorted.sort_by_key(|k| {
        (
            k.account.as_str(),
            k.display_name(),
            k.replica_regions.is_none(),
            k.region.as_str(),
        )
    });
    sorted
}

/// One key: comments naming its source and its other aliases, then its entries.
fn write_key(out: &mut String, key: &DeclaredKey, defaults: &Defaults<'_>) {
    if let Some(source) = &key.source {
        let _ = writeln!(out, "  # {}", comment(source));
    }
    if !key.other_aliases.is_empty() {
        let _ = writeln!(
            out,
            "  # also aliased as {} (not compared)",
            comment(&key.other_aliases.join(", "))
        );
    }
    let mut entries = identity_entries(key, defaults);
    entries.extend(field_entries(key));
    write_entries(out, &entries);
}

/// The key's identity: its alias (with account and region where they are not the defaults),
/// else its key ARN.
fn identity_entries<'a>(
    key: &'a DeclaredKey,
    defaults: &Defaults<'_>,
) -> Vec<(&'a str, Cow<'a, Value>)> {
    let mut entries: Vec<(&str, Cow<'a, Value>)> = Vec::new();
    let text = |s: &str| Cow::Owned(Value::from(s));
    if let Some(alias) = &key.alias {
        entries.push(("alias", text(alias)));
        if Some(key.account.as_str()) != defaults.account {
            entries.push(("account", text(&key.account)));
        }
        if Some(key.region.as_str()) != defaults.region {
            entries.push(("region", text(&key.region)));
        }
    } else if let Some(arn) = &key.key_arn {
        entries.push(("key_arn", text(arn)));
    }
    entries
}

/// The declared fields, in the spec format's order; a field the key leaves out is not
/// written (so it is not compared).
fn field_entries(key: &DeclaredKey) -> Vec<(&'static str, Cow<'_, Value>)> {
    let text = |v: &Option<String>| v.as_deref().map(Value::from);
    [
        ("description", text(&key.description)),
        ("key_spec", text(&key.key_spec)),
        ("key_usage", text(&key.key_usage)),
        ("enabled", key.enabled.map(Value::from)),
        (
            "enable_key_rotation",
            key.enable_key_rotation.map(Value::from),
        ),
        (
            "rotation_period_in_days",
            key.rotation_period_in_days.map(Value::from),
        ),
        ("multi_region", key.multi_region.map(Value::from)),
        (
            "replica_regions",
            key.replica_regions.as_ref().map(|r| Value::from(r.clone())),
        ),
        (
            "deletion_window_in_days",
            key.deletion_window_in_days.map(Value::from),
        ),
        (
            "tags",
            key.tags.as_ref().map(|t| {
                Value::Object(
                    t.iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect(),
                )
            }),
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|value| (name, Cow::Owned(value))))
    // The policy, the largest value, is written from the key, not copied.
    .chain(key.policy.as_ref().map(|p| ("policy", Cow::Borrowed(p))))
    .collect()
}

/// Writes one key's entries as a YAML list item: replica regions in flow style, the account
/// always quoted (so it stays a string), every other value as YAML.
fn write_entries(out: &mut String, entries: &[(&str, Cow<'_, Value>)]) {
    for (i, (name, value)) in entries.iter().enumerate() {
        let lead = if i == 0 { "  - " } else { "    " };
        if *name == "replica_regions" {
            let regions: Vec<String> = value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(scalar)
                .collect();
            let _ = writeln!(out, "{lead}{name}: [{}]", regions.join(", "));
        } else if *name == "account" {
            let _ = writeln!(out, "{lead}{name}: {}", quote(value.as_str().unwrap_or("")));
        } else {
            out.push_str(lead);
            out.push_str(name);
            out.push(':');
            write_value(out, value, 6);
        }
    }
}

/// Text for a comment line: a line break in it (a resource name in a state file can hold one)
/// would end the comment and leave the rest as YAML, so control characters are escaped.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The value most keys share (first in sort order on a tie); `None` when there are no keys.
fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for value in values.filter(|v| !v.is_empty()) {
        *counts.entry(value).or_default() += 1;
    }
    let max = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == max).map(|(v, _)| v)
}

/// Writes a value after `key:` (the colon is already written); nested blocks at `indent`.
fn write_value(out: &mut String, value: &Value, indent: usize) {
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            for (k, v) in map {
                pad(out, indent);
                push_scalar(out, k);
                out.push(':');
                write_value(out, v, indent + 2);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                pad(out, indent);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        for (i, (k, v)) in map.iter().enumerate() {
                            if i == 0 {
                                out.push(' ');
                            } else {
                                pad(out, indent + 2);
                            }
                            push_scalar(out, k);
                            out.push(':');
                            write_value(out, v, indent + 4);
                        }
                    }
                    Value::Array(inner) if !inner.is_empty() => {
                        // A list in a list: flow style keeps it on one line.
                        let _ =
                            writeln!(out, " {}", serde_json::to_string(item).unwrap_or_default());
                    }
                    other => {
                        out.push(' ');
                        push_inline(out, other);
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push(' ');
            push_inline(out, other);
            out.push('\n');
        }
    }
}

fn push_inline(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => push_scalar(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Always double-quoted (account ids must stay strings).
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// A string as a plain YAML scalar when that reads back as the same string, else quoted.
pub fn scalar(text: &str) -> String {
    let mut out = String::new();
    push_scalar(&mut out, text);
    out
}

/// Writes [`scalar`]`(text)` to `out`.
fn push_scalar(out: &mut String, text: &str) {
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
    ];
    let reserved = text.len() <= 5 && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(text));
    let plain = text.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b" _./:*@+=-()".contains(&c))
        && !text.contains(": ")
        && !text.ends_with(':')
        && !text.ends_with(' ')
        && !reserved;
    if plain {
        out.push_str(text);
    } else {
        out.push_str(&quote(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_break_in_a_source_name_stays_in_its_comment() {
        // Found by tests/fuzz_parsers.rs: a Pulumi URN ending in "line\nbreak" printed a spec
        // that did not load ("simple key expected ':'").
        let key = DeclaredKey {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            alias: Some("alias/a".into()),
            source: Some("pulumi: aws:kms/key:Key::line\nbreak\rx".into()),
            other_aliases: vec!["alias/b\nc".into()],
            ..DeclaredKey::default()
        };
        let text = to_yaml(&[key], &["header\rwith a carriage return".into()]);
        assert!(
            text.contains("  # pulumi: aws:kms/key:Key::line\\nbreak\\rx\n"),
            "{text}"
        );
        assert!(
            text.starts_with("# header\\rwith a carriage return\n"),
            "{text}"
        );
        let doc = super::super::parse_document(&text, "import.yaml").expect("loads again");
        assert!(doc.get("keys").is_some(), "{text}");
    }
}
