//! `kms-audit checks [--format table|json]` and `kms-audit explain CHECK_ID`: the check catalog.

use std::io::Write;

use anyhow::Context;
use clap::{Args, ValueEnum};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use crate::analysis::exit::Outcome;
use crate::catalog::CheckMeta;

const WIDTH: usize = 80;

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// `table` for people, `json` for tools (every field of every entry).
    #[arg(long, value_enum, default_value = "table")]
    pub format: CatalogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A check id (`ROT001`, any case) or name (`rotation-disabled`).
    #[arg(value_name = "CHECK_ID")]
    pub check: String,
}

pub fn run_checks(args: ChecksArgs) -> anyhow::Result<Outcome> {
    let text = match args.format {
        CatalogFormat::Table => render_table(crate::analysis::catalog().all()),
        CatalogFormat::Json => {
            let mut text = serde_json::to_string_pretty(crate::analysis::catalog().all())
                .context("could not serialize the catalog")?;
            text.push('\n');
            text
        }
    };
    print(&text)?;
    Ok(Outcome::Clean)
}

pub fn run_explain(args: ExplainArgs) -> anyhow::Result<Outcome> {
    let wanted = args.check.trim();
    // The catalog, then kms-audit's findings about its own inputs (SUP001 expired-suppression).
    let meta = crate::analysis::every_rule().lookup(wanted);
    let Some(meta) = meta else {
        anyhow::bail!(
            "unknown check '{}': run `kms-audit checks` for the ids and names",
            args.check
        );
    };
    print(&render_explain(meta))?;
    Ok(Outcome::Clean)
}

fn print(text: &str) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(text.as_bytes())
        .and_then(|_| lock.flush())
        .context("could not write to stdout")
}

/// The catalog as a table, 80 columns wide.
pub fn render_table(entries: &[CheckMeta]) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH as u16)
        .set_header(vec!["ID", "Name", "Severity", "Title"]);
    for meta in entries {
        table.add_row(vec![
            meta.id.clone(),
            meta.name.clone(),
            meta.severity.to_string(),
            meta.title.clone(),
        ]);
    }
    let footer = format!(
        "{} checks. `kms-audit explain ID` shows one check's rationale, remediation, references \
         and framework mappings.",
        entries.len()
    );
    format!("{table}\n{}", wrap(&footer, "", ""))
}

/// One entry as plain text, wrapped at 80 columns.
pub fn render_explain(meta: &CheckMeta) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {} (severity {}, category {})\n",
        meta.id, meta.name, meta.severity, meta.category
    ));
    out.push_str(&wrap(&meta.title, "", ""));
    for (heading, body) in [
        ("Why it matters", &meta.rationale),
        ("How to fix", &meta.remediation),
    ] {
        out.push_str(&format!("\n{heading}:\n"));
        out.push_str(&wrap(body, "  ", "  "));
    }
    for (heading, items) in [
        ("Frameworks", &meta.frameworks),
        ("References", &meta.references),
    ] {
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{heading}:\n"));
        for item in items {
            out.push_str(&wrap(item, "  - ", "    "));
        }
    }
    out
}

/// Greedy word wrap; words longer than a line (URLs, commands) are kept whole.
fn wrap(text: &str, first_indent: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first_indent.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_check_within_80_columns() {
        let text = render_table(crate::analysis::catalog().all());
        for meta in crate::analysis::catalog().all() {
            assert!(text.contains(&meta.id), "{}", meta.id);
        }
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line}");
        }
    }

    #[test]
    fn explain_prints_every_part_wrapped() {
        let meta = crate::analysis::catalog().lookup("ROT001").expect("ROT001");
        let text = render_explain(meta);
        assert!(
            text.starts_with("ROT001 rotation-disabled (severity medium, category rotation)\n")
        );
        for part in [
            "Why it matters:",
            "How to fix:",
            "Frameworks:",
            "References:",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert!(text.contains("CIS AWS Foundations 3.6 / 4.6"));
        for line in text.lines() {
            assert!(
                line.chars().count() <= WIDTH
                    || !line.trim().trim_start_matches("- ").contains(' '),
                "too wide: {line}"
            );
        }
    }

    #[test]
    fn wrap_keeps_long_words_whole() {
        let long = "x".repeat(100);
        assert_eq!(
            wrap(&format!("a {long} b"), "", ""),
            format!("a\n{long}\nb\n")
        );
    }
}
