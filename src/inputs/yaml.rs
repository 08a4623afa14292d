//! What the YAML loaders share (the config file, suppressions, the accounts file and declared
//! specs): parser limits that keep a hostile file cheap, and parser errors worded for people.
//!
//! serde-saphyr's own budget refuses alias bombs and deep nesting. kms-audit changes three of
//! its limits:
//! - nesting, to [`MAX_DEPTH`] levels: the deepest legitimate document, a key policy inside a
//!   spec, has about ten, and a document nested 64 levels deep (the library's default) overflows
//!   a 2 MiB thread stack in a debug build of the spec parser;
//! - alias expansion, to [`MAX_ALIAS_EVENTS`] replayed events (the library allows 1,000,000): a
//!   300-byte "billion laughs" file then costs a few megabytes and milliseconds, not 100+ MB;
//! - size, up to [`MAX_NODES`] nodes: the library stops at 250,000, which a Terraform state of
//!   about 5,000 resources (some 25 MB) already exceeds. Without aliases, cost grows only with
//!   the size of the file.
//!
//! Messages come from serde-saphyr's user-facing formatter (its default one gives advice to
//! programmers, such as "set DuplicateKeyPolicy in Options"), on one line, without the location:
//! each loader prints the file, line and column in its own format.

use std::borrow::Cow;

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, MessageFormatter, UserMessageFormatter};

/// The deepest nesting of mappings and lists a file may have.
pub const MAX_DEPTH: usize = 32;
/// How many parser events aliases (`*name`) may replay in one file.
pub const MAX_ALIAS_EVENTS: usize = 100_000;
/// How many nodes (scalars, mappings, lists) a file may hold.
pub const MAX_NODES: usize = 20_000_000;

/// Parser options for every YAML file kms-audit reads.
pub fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: MAX_NODES,
            max_events: 2 * MAX_NODES + 2,
            max_total_scalar_bytes: 1 << 30,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
        },
    }
}

/// Parses a YAML document with [`options`].
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_saphyr::from_str_with_options(text, options())
}

/// The line and column (1-based) of a parser error, when it has one.
pub fn location(err: &Error) -> Option<(u64, u64)> {
    err.location()
        .filter(|l| l.line() > 0)
        .map(|l| (l.line(), l.column()))
}

/// A parser error for people: one line, no location, no source snippet.
pub fn message(err: &Error) -> String {
    let mut inner = err;
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let text = Wording.format_message(inner);
    let text = match text.trim() {
        "recursion limit exceeded" => nested_too_deeply(),
        other => other.to_string(),
    };
    one_line(&text)
}

fn nested_too_deeply() -> String {
    format!("the document is nested more than {MAX_DEPTH} levels deep")
}

/// Lines joined with spaces, other control characters escaped.
fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    printable(&joined)
}

/// Text for a one-line message: control characters (a line break in a value the user wrote as
/// `"a\nb"`) are escaped the way they are written in YAML.
pub fn printable(text: &str) -> String {
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

/// serde-saphyr's user-facing wording, with budget breaches in words rather than `Debug` output.
struct Wording;

impl MessageFormatter for Wording {
    fn format_message<'a>(&self, err: &'a Error) -> Cow<'a, str> {
        match err {
            Error::Budget { breach, .. } => Cow::Owned(budget_message(breach)),
            Error::AliasReplayLimitExceeded { .. }
            | Error::AliasReplayCounterOverflow { .. }
            | Error::AliasExpansionLimitExceeded { .. } => Cow::Owned(format!(
                "aliases (`*name`) expand to more than {MAX_ALIAS_EVENTS} values; write the \
                 document out instead"
            )),
            Error::AliasReplayStackDepthExceeded { .. } => Cow::Borrowed(
                "aliases (`*name`) are nested in each other too deeply; write the document out \
                 instead",
            ),
            _ => UserMessageFormatter.format_message(err),
        }
    }
}

fn budget_message(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => nested_too_deeply(),
        BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => {
            "the document uses too many aliases (`*name`) for its anchors (`&name`); write it \
             out instead"
                .to_string()
        }
        BudgetBreach::Anchors { .. } => "the document defines too many anchors (`&name`)".into(),
        BudgetBreach::Documents { .. } => "the file holds too many YAML documents".into(),
        BudgetBreach::MergeKeys { .. } => "the document uses too many merge keys (`<<`)".into(),
        BudgetBreach::SequenceUnbalanced => "the document is truncated or malformed".into(),
        _ => "the document is too large or too complex for kms-audit to read".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> Error {
        from_str::<serde_json::Value>(text).expect_err("invalid")
    }

    #[test]
    fn alias_bombs_are_refused_quickly_in_words() {
        let mut bomb = String::from("l0: &l0 [\"lol\"]\n");
        for level in 1..=9 {
            let refs = vec![format!("*l{}", level - 1); 10].join(", ");
            bomb.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let err = error(&bomb);
        // A hang guard, not a benchmark: an expanded bomb takes minutes; 30 s allows a busy CI.
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        let text = message(&err);
        assert!(text.contains("aliases"), "{text}");
        assert!(!text.contains('{') && !text.contains('\n'), "{text}");
    }

    #[test]
    fn large_documents_without_aliases_are_read() {
        // A Terraform state of 5,000+ resources has more than the library's 250,000 nodes.
        let text = format!("[{}]", vec!["{\"a\": 1}"; 130_000].join(","));
        let value: serde_json::Value = from_str(&text).expect("300,000 nodes");
        assert_eq!(value.as_array().map(Vec::len), Some(130_000));
    }

    #[test]
    fn deep_nesting_is_refused_in_words() {
        for text in [
            format!("a: {}x{}", "[".repeat(40), "]".repeat(40)),
            format!("a: {}x{}", "[".repeat(300), "]".repeat(300)),
            (0..40).map(|d| format!("{}k:\n", " ".repeat(d))).collect(),
        ] {
            assert_eq!(
                message(&error(&text)),
                "the document is nested more than 32 levels deep"
            );
        }
    }

    #[test]
    fn messages_give_no_advice_to_programmers() {
        let text = message(&error("a: 1\na: 2\n"));
        assert!(text.contains("duplicate mapping key"), "{text}");
        assert!(!text.contains("DuplicateKeyPolicy"), "{text}");
        let text = message(&error("a: 1\n---\nb: 2\n"));
        assert!(!text.contains("from_str_multiple"), "{text}");
        assert_eq!(one_line("a\n  b\tc"), "a b\\tc");
    }
}
