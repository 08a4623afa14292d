//! The table report: what a security engineer reads at a terminal, as wide as the terminal
//! (`COLUMNS`, else the terminal's width), 100 columns in files and pipes.
//!
//! Header with the scope (accounts, regions, targets, keys, gaps, duration), a summary by account
//! and severity, the findings grouped by severity (check, account and region, alias or key id, a
//! short message: the key is in its own column, and the details stay in the JSON, SARIF and HTML
//! reports), suppressed findings, findings resolved since the baseline, the coverage gaps, and a
//! last line that sums it all up with the exit code and why.
//! Colour (severity headings and counts) only when [`RenderOptions::color`] is set, which the CLI
//! does only on a terminal and never with `NO_COLOR`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width};

use super::RenderOptions;
use crate::analysis::exit::{FailPolicy, Outcome};
use crate::model::{BaselineState, Finding, Report, Severity, TargetStatus};

/// Writes the table report section by section (and the findings one severity at a time), so
/// only one section's text is in memory at once.
pub fn render_to(
    report: &Report,
    options: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let style = Style {
        color: options.color,
        width: options.table_width(),
    };
    let mut section = String::new();
    header(report, &style, &mut section);
    summary(report, &style, &mut section);
    out.write_all(section.as_bytes())?;
    findings(report, &style, out)?;
    for write_section in [suppressed, resolved] {
        let mut section = String::new();
        write_section(report, &style, &mut section);
        out.write_all(section.as_bytes())?;
    }
    let mut section = String::new();
    gaps(report, &style, &mut section);
    closing_line(report, &options.fail_policy, &style, &mut section);
    out.write_all(section.as_bytes())
}

struct Style {
    color: bool,
    width: usize,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity, text: &str) -> String {
        self.paint(ansi(severity), text)
    }

    fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(self.width).unwrap_or(u16::MAX));
        // A table continuing another one (see `write_long_group`) has no header.
        if !header.is_empty() {
            table.set_header(header.to_vec());
        }
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        table
    }
}

/// A table in kms-audit's style (condensed box drawing, wrapped to `width` columns), without
/// colour: what the access and compliance tables are built on.
pub fn plain_table(width: usize, header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX))
        .force_no_tty()
        .set_header(header);
    table
}

fn ansi(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

fn cell_color(severity: Severity) -> Color {
    match severity {
        Severity::Critical => Color::Red,
        Severity::High => Color::DarkRed,
        Severity::Medium => Color::DarkYellow,
        Severity::Low => Color::DarkCyan,
        Severity::Info => Color::Grey,
    }
}

fn header(report: &Report, style: &Style, out: &mut String) {
    let mut title = format!("{} {}", report.tool.name, report.tool.version);
    if !report.started_at.is_empty() {
        title.push_str(&format!(" · scan of {}", report.started_at));
    }
    title.push_str(&format!(" ({})", duration(report.summary.duration_ms)));
    push_wrapped(out, &style.paint("1", &title), "", style.width);

    let scope = format!(
        "Scope: {} · {} · {} · {}",
        plural(report.summary.accounts, "account"),
        plural(report.summary.regions, "region"),
        plural(report.summary.keys, "key"),
        plural(report.summary.gaps, "coverage gap"),
    );
    push_wrapped(out, &scope, "       ", style.width);
    let count = |status: TargetStatus| report.targets.iter().filter(|t| t.status == status).count();
    let targets = format!(
        "Targets: {} ({} scanned, {} skipped, {} failed)",
        plural(report.targets.len() as u64, "account-region"),
        count(TargetStatus::Scanned),
        count(TargetStatus::Skipped),
        count(TargetStatus::Failed),
    );
    push_wrapped(out, &targets, "         ", style.width);
    if let Some(org) = &report.organization_id {
        push_wrapped(out, &format!("Organization: {org}"), "", style.width);
    }
    if report.findings.iter().any(|f| f.baseline.is_some()) || !report.resolved.is_empty() {
        let state = |s: BaselineState| {
            report
                .findings
                .iter()
                .filter(|f| f.baseline == Some(s))
                .count()
        };
        push_wrapped(
            out,
            &format!(
                "Baseline: {} new · {} existing · {} resolved",
                state(BaselineState::New),
                state(BaselineState::Existing),
                report.resolved.len()
            ),
            "",
            style.width,
        );
    }
    if let Some(specs) = &report.summary.specs {
        push_wrapped(
            out,
            &format!(
                "Specs: {} · {} matched · {} missing · {} not evaluated (out of scope)",
                plural(specs.declared, "declared key"),
                specs.matched,
                specs.missing,
                specs.out_of_scope
            ),
            "       ",
            style.width,
        );
    }
    if report.is_incomplete() {
        push_wrapped(
            out,
            &style.paint(
                "1;33",
                "INCOMPLETE: some accounts, regions or keys could not be read (see the coverage gaps below).",
            ),
            "",
            style.width,
        );
    }
}

fn summary(report: &Report, style: &Style, out: &mut String) {
    #[derive(Default)]
    struct Row {
        by_severity: BTreeMap<Severity, u64>,
        suppressed: u64,
        gaps: u64,
    }
    let mut accounts: BTreeSet<&str> = report.targets.iter().map(|t| t.account.as_str()).collect();
    accounts.extend(report.findings.iter().map(|f| f.account.as_str()));
    accounts.extend(report.coverage_gaps.iter().map(|g| g.account.as_str()));
    let mut rows: BTreeMap<&str, Row> = accounts.into_iter().map(|a| (a, Row::default())).collect();
    for finding in &report.findings {
        let row = rows.entry(finding.account.as_str()).or_default();
        if finding.suppressed.is_some() {
            row.suppressed += 1;
        } else {
            *row.by_severity.entry(finding.severity).or_default() += 1;
        }
    }
    for gap in &report.coverage_gaps {
        rows.entry(gap.account.as_str()).or_default().gaps += 1;
    }

    let mut table = style.table(&[
        "Account",
        "Critical",
        "High",
        "Medium",
        "Low",
        "Info",
        "Suppressed",
        "Gaps",
    ]);
    for column in 1..8 {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut total = Row::default();
    let add = |table: &mut Table, name: &str, row: &Row| {
        let mut cells = vec![Cell::new(name)];
        for severity in Severity::ALL {
            let n = row.by_severity.get(&severity).copied().unwrap_or(0);
            let mut cell = Cell::new(n);
            if n > 0 {
                cell = cell.fg(cell_color(severity));
            }
            cells.push(cell);
        }
        cells.push(Cell::new(row.suppressed));
        cells.push(Cell::new(row.gaps));
        table.add_row(cells);
    };
    for (account, row) in &rows {
        add(&mut table, account, row);
        for (severity, n) in &row.by_severity {
            *total.by_severity.entry(*severity).or_default() += n;
        }
        total.suppressed += row.suppressed;
        total.gaps += row.gaps;
    }
    if rows.len() > 1 {
        add(&mut table, "Total", &total);
    }
    out.push_str("\nFindings by account and severity (suppressed findings are not counted)\n");
    out.push_str(&table.to_string());
    out.push('\n');
}

fn findings(report: &Report, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    let active: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    if active.is_empty() {
        return out.write_all(b"\nNo findings.\n");
    }
    for severity in Severity::ALL {
        let group: Vec<&Finding> = active
            .iter()
            .copied()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!(
            "{} · {}",
            severity.as_str().to_uppercase(),
            plural(group.len() as u64, "finding")
        );
        writeln!(out, "\n{}", style.severity(severity, &heading))?;
        if group.len() <= ROWS_PER_CHUNK {
            let mut table = style.table(&FINDING_COLUMNS);
            keep_keys_whole(&mut table, &group);
            for f in group {
                table.add_row(finding_row(f));
            }
            writeln!(out, "{table}")?;
        } else {
            write_long_group(style, &group, out)?;
        }
    }
    Ok(())
}

/// Gives the Key column room for its widest alias or key id (up to 48 columns), so the message
/// column is the one that wraps.
fn keep_keys_whole(table: &mut Table, group: &[&Finding]) {
    let widest = group
        .iter()
        .map(|f| super::key_label(f).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(3, 48);
    if let Some(column) = table.column_mut(2) {
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
            u16::try_from(widest + 2).unwrap_or(50),
        )));
    }
}

const FINDING_COLUMNS: [&str; 4] = ["Check", "Account / region", "Key", "Message"];

/// A severity group longer than this is written this many rows at a time: comfy-table keeps
/// every cell of a table until it renders it, which on a 100,000-key scan is ~100 MB.
const ROWS_PER_CHUNK: usize = 1000;

fn finding_row(f: &Finding) -> Vec<Cell> {
    let mut check = f.check_id.to_string();
    if f.baseline == Some(BaselineState::New) {
        check.push_str("\nnew");
    }
    let mut message = short_message(f);
    if let Some(spec) = &f.spec {
        message.push_str(&format!("\nat {}:{}", spec.file, spec.line));
    }
    vec![
        Cell::new(check),
        Cell::new(place(f)),
        Cell::new(super::key_label(f)),
        Cell::new(message),
    ]
}

/// Writes a long severity group as one table in chunks: the column widths are fixed for the
/// whole group (from its widest check, place and key), each chunk is rendered on its own, and
/// the borders between chunks are left out, so the result reads as a single table.
fn write_long_group(style: &Style, group: &[&Finding], out: &mut dyn Write) -> std::io::Result<()> {
    let widths = long_group_widths(group, style.width);
    let chunks: Vec<&[&Finding]> = group.chunks(ROWS_PER_CHUNK).collect();
    // Each chunk is rendered on its own, so the chunks are rendered on every core (a few at a
    // time) and written in order.
    crate::model::parallel::write_each_in_rounds(&chunks, 1, 2, out, |index, chunk, buffer| {
        let mut table = if index == 0 {
            style.table(&FINDING_COLUMNS)
        } else {
            style.table(&[])
        };
        // Every chunk as wide as the whole table, even when its messages are short.
        table.set_content_arrangement(ContentArrangement::DynamicFullWidth);
        table.set_constraints(widths.map(|w| ColumnConstraint::Absolute(Width::Fixed(w))));
        for f in *chunk {
            table.add_row(finding_row(f));
        }
        let text = table.to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        if index + 1 < chunks.len() {
            lines.pop(); // the bottom border: the next chunk continues the table
        }
        let skip = usize::from(index > 0); // the top border of a continuation
        for line in &lines[skip..] {
            writeln!(buffer, "{line}")?;
        }
        Ok(())
    })
}

/// Column widths (padding included) for a long group: check, place and key as wide as their
/// widest entry, the message the rest of the width (at least 24).
fn long_group_widths(group: &[&Finding], total: usize) -> [u16; 4] {
    let width = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut columns = FINDING_COLUMNS.map(width);
    for f in group {
        columns[0] = columns[0].max(width(&f.check_id)).max(3);
        columns[1] = columns[1]
            .max(f.account.chars().count())
            .max(f.region.chars().count());
        columns[2] = columns[2].max(width(super::key_label(f)));
    }
    // 5 vertical borders; 2 columns of padding per column.
    let fixed = 5 + columns[0] + 2 + columns[1] + 2;
    let room = total.saturating_sub(fixed);
    let key = (columns[2] + 2).min(room.saturating_sub(24 + 2).max(8));
    let message = room.saturating_sub(key).max(8);
    let clamp = |w: usize| u16::try_from(w).unwrap_or(u16::MAX);
    [
        clamp(columns[0] + 2),
        clamp(columns[1] + 2),
        clamp(key),
        clamp(message),
    ]
}

fn suppressed(report: &Report, style: &Style, out: &mut String) {
    let group: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if group.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\nSuppressed · {} (accepted until the date shown; they do not fail the run)\n",
        plural(group.len() as u64, "finding")
    ));
    let mut table = Style {
        color: false,
        width: style.width,
    }
    .table(&["Check", "Account / region", "Key", "Reason"]);
    keep_keys_whole(&mut table, &group);
    for f in group {
        let Some(s) = &f.suppressed else { continue };
        table.add_row(vec![
            format!("{}\n{}", f.check_id, f.severity),
            place(f),
            super::key_label(f).to_string(),
            format!("{}\nuntil {}", s.reason, s.expires),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
}

fn resolved(report: &Report, style: &Style, out: &mut String) {
    if report.resolved.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\nResolved since the baseline · {}\n",
        plural(report.resolved.len() as u64, "finding")
    ));
    let mut table = Style {
        color: false,
        width: style.width,
    }
    .table(&["Check", "Account / region", "Key", "Message"]);
    keep_keys_whole(&mut table, &report.resolved.iter().collect::<Vec<_>>());
    for f in &report.resolved {
        table.add_row(vec![
            format!("{}\n{}", f.check_id, f.severity),
            place(f),
            super::key_label(f).to_string(),
            short_message(f),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
}

fn gaps(report: &Report, style: &Style, out: &mut String) {
    if report.coverage_gaps.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(&style.paint("1;33", "Coverage gaps (these were NOT audited):"));
    out.push('\n');
    for gap in &report.coverage_gaps {
        let mut place = format!(
            "- {} {}",
            gap.account,
            gap.region.as_deref().unwrap_or("(all regions)")
        );
        if let Some(arn) = &gap.key_arn {
            place.push_str(&format!(
                " key {}",
                crate::model::arn::key_id_of_arn(arn).unwrap_or(arn)
            ));
        }
        push_wrapped(out, &place, "  ", style.width);
        let what = match &gap.error_code {
            _ if gap.operation == crate::model::SPEC_SCOPE_OPERATION => {
                format!("  not evaluated: {}", gap.reason)
            }
            Some(code) => format!("  {} failed ({code}): {}", gap.operation, gap.reason),
            None => format!("  {} failed: {}", gap.operation, gap.reason),
        };
        push_wrapped(out, &what, "  ", style.width);
    }
}

/// The longest message the table shows; the whole message is in the JSON, SARIF and HTML reports.
const SHORT_MESSAGE: usize = 160;

/// The finding's message for the table: without the key's name (the Key column has it), without
/// the reason a policy finding repeats from its evidence, and cut at [`SHORT_MESSAGE`] characters.
fn short_message(f: &Finding) -> String {
    let mut message = f.message.clone();
    if f.check_id.starts_with("POL") {
        let evidence = f.evidence.json();
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(evidence) {
            let reason = value["reason"]
                .as_str()
                .or_else(|| value["grants"][0]["reason"].as_str());
            if let Some(reason) = reason.filter(|r| !r.is_empty())
                && let Some(head) = message.strip_suffix(&format!(": {reason}"))
            {
                message = head.to_string();
            }
        }
    }
    let label = super::key_label(f);
    if label != "-" {
        for (from, to) in [
            (format!(" on key {label}"), String::new()),
            (format!(" of {label}"), String::new()),
            (format!(" for {label}"), String::new()),
            (format!(" on {label}"), String::new()),
            (format!("key {label}"), "key".to_string()),
            (format!(" {label}"), String::new()),
        ] {
            if message.contains(&from) {
                message = message.replacen(&from, &to, 1);
                break;
            }
        }
    }
    if message.chars().count() > SHORT_MESSAGE {
        message = message.chars().take(SHORT_MESSAGE - 1).collect::<String>();
        message.push('…');
    }
    message
}

/// The last line: "N findings (c critical, …) in A accounts × R regions, G gaps; exit code X
/// because …", what a job log's reader looks at first.
fn closing_line(report: &Report, policy: &FailPolicy, style: &Style, out: &mut String) {
    let active: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                active.iter().filter(|f| f.severity == *s).count(),
                s.as_str()
            )
        })
        .collect();
    let suppressed = report.findings.len() - active.len();
    let real = Outcome::of_report(report, policy);
    let outcome = Outcome::of_run(report, policy);
    let threshold = policy
        .threshold
        .map_or("none".to_string(), |s| s.as_str().to_string());
    let failing = active.iter().filter(|f| policy.is_failing(f)).count();
    let reason = match real {
        Outcome::Incomplete => format!(
            "the scan is incomplete ({}{})",
            plural(report.summary.gaps, "coverage gap"),
            if failing > 0 {
                format!("; also {failing} at or above --fail-on {threshold}")
            } else {
                String::new()
            }
        ),
        Outcome::Findings => format!(
            "{} {} at or above --fail-on {threshold}{}",
            failing,
            if failing == 1 {
                "finding is"
            } else {
                "findings are"
            },
            if policy.new_only {
                " and new since the baseline"
            } else {
                ""
            }
        ),
        _ if policy.threshold.is_none() => "--fail-on none never fails on findings".to_string(),
        _ => format!(
            "no {}finding is at or above --fail-on {threshold}",
            if policy.new_only { "new " } else { "" }
        ),
    };
    // `--exit-zero-on` (a shard pod of an Indexed Job): say what the code would have been.
    let because = if outcome == real {
        reason
    } else {
        format!(
            "--exit-zero-on {} (without it, exit code {} because {reason})",
            policy.exit_zero_on.list(),
            real.code()
        )
    };
    let line = format!(
        "{} ({}){} in {} × {}, {}; exit code {} because {because}",
        plural(active.len() as u64, "finding"),
        counts.join(", "),
        if suppressed > 0 {
            format!(" and {suppressed} suppressed")
        } else {
            String::new()
        },
        plural(report.summary.accounts, "account"),
        plural(report.summary.regions, "region"),
        plural(report.summary.gaps, "gap"),
        outcome.code(),
    );
    // One line, never wrapped: a log search or `tail -1` finds all of it.
    out.push('\n');
    if outcome == Outcome::Clean {
        out.push_str(&line);
    } else {
        out.push_str(&style.paint("1", &line));
    }
    out.push('\n');
}

fn place(f: &Finding) -> String {
    format!("{}\n{}", f.account, f.region)
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// Appends `text` wrapped at `width` columns on spaces; the first line keeps the text's own
/// leading spaces, continuation lines start with `indent`, and a word wider than a line is cut.
/// ANSI sequences take no columns.
pub(crate) fn push_wrapped(out: &mut String, text: &str, indent: &str, width: usize) {
    let visible = |s: &str| strip_ansi(s).chars().count();
    let body = text.trim_start_matches(' ');
    let mut line = text[..text.len() - body.len()].to_string();
    let mut line_has_word = false;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_string();
        loop {
            let room = width.saturating_sub(visible(&line) + usize::from(line_has_word));
            if visible(&word) <= room {
                if line_has_word {
                    line.push(' ');
                }
                line.push_str(&word);
                line_has_word = true;
                break;
            }
            if line_has_word {
                out.push_str(&line);
                out.push('\n');
                line = indent.to_string();
                line_has_word = false;
                continue;
            }
            // A word wider than a whole line (an ARN, a URL): cut it.
            let (head, tail) = split_at_columns(&word, room.max(1));
            line.push_str(&head);
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
            word = tail;
        }
    }
    out.push_str(&line);
    out.push('\n');
}

/// Splits plain text after `columns` characters.
fn split_at_columns(word: &str, columns: usize) -> (String, String) {
    let head: String = word.chars().take(columns).collect();
    let tail: String = word.chars().skip(columns).collect();
    (head, tail)
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_the_width_with_indent() {
        let mut out = String::new();
        let text = "word ".repeat(30);
        push_wrapped(&mut out, text.trim_end(), "  ", 80);
        for line in out.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        assert!(out.lines().nth(1).is_some_and(|l| l.starts_with("  word")));
    }

    #[test]
    fn keeps_leading_spaces_and_cuts_words_wider_than_a_line() {
        let mut out = String::new();
        let arn = format!("arn:aws:iam::111111111111:role/{}", "x".repeat(90));
        push_wrapped(&mut out, &format!("  failed: {arn} end"), "  ", 80);
        assert!(out.starts_with("  failed:"), "{out}");
        for line in out.lines() {
            assert!(line.chars().count() <= 80, "{line}");
            assert!(line.starts_with("  "), "{line}");
        }
        assert!(out.replace("\n  ", "").contains(&arn), "{out}");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(812), "812 ms");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(192_000), "3 min 12 s");
    }

    #[test]
    fn a_long_severity_group_reads_as_one_table() {
        let mut report: Report =
            serde_json::from_str(include_str!("../../reports/sample.json")).expect("sample");
        let template = report.findings[0].clone();
        let finding = |n: usize| Finding {
            check_id: "ROT001".into(),
            severity: Severity::Medium,
            suppressed: None,
            baseline: None,
            spec: None,
            aliases: vec![format!("alias/app-{n}")],
            message: format!("automatic rotation is disabled on alias/app-{n}"),
            ..template.clone()
        };
        let rows = 2 * ROWS_PER_CHUNK + 7;
        report.findings = (0..rows).map(finding).collect();
        let mut out = Vec::new();
        let style = Style {
            color: false,
            width: 130,
        };
        findings(&report, &style, &mut out).expect("render");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], format!("MEDIUM · {rows} findings"));
        let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(count("┌"), 1, "one top border");
        assert_eq!(count("╞"), 1, "one header");
        assert_eq!(count("└"), 1, "one bottom border");
        assert_eq!(count("│ ROT001"), rows, "every finding, once");
        for line in &lines[1..] {
            assert_eq!(line.chars().count(), 130, "{line}");
        }
        assert!(text.contains(&format!("alias/app-{}", rows - 1)));
    }
}
