//! Output flags shared by `scan` and `report` (`--format`, `-o`, `--fail-on`, `--new-only`), and
//! writing reports: files first (atomically), then stdout.

use std::io::{BufWriter, IsTerminal, Write};

use clap::Args;

use super::sarif::SarifArgs;
use crate::analysis::exit::FailPolicy;
use crate::model::{Report, Severity};
use crate::report::{self, Format, OutputTarget, RenderOptions, sarif};

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format written to stdout: table, json, csv, sarif, ocsf, asff, html, compliance,
    /// compliance-csv, compliance-json or access-csv (effective access, one row per key,
    /// principal, action class and path). Default: table on a terminal or when -o writes files,
    /// json when stdout is piped.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Also write a report file, atomically: FORMAT=PATH (repeatable), e.g.
    /// -o json=out/scan.json -o sarif=out/scan.sarif.
    #[arg(short = 'o', long = "output", value_name = "FORMAT=PATH")]
    pub outputs: Vec<OutputTarget>,
    /// Exit 1 when an unsuppressed finding is at or above this severity: critical, high, medium,
    /// low, info, or none (never).
    #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = parse_fail_on)]
    pub fail_on: FailOn,
    /// With --baseline: only findings that are new since the baseline make the run fail.
    #[arg(long, requires = "baseline")]
    pub new_only: bool,
    /// SARIF for GitHub code scanning: --sarif-split, --sarif-category, ...
    #[command(flatten)]
    pub sarif: SarifArgs,
}

impl OutputArgs {
    pub fn fail_policy(&self) -> FailPolicy {
        FailPolicy {
            threshold: self.fail_on.0,
            new_only: self.new_only,
            ..FailPolicy::default()
        }
    }

    /// Whether any requested report (stdout or `-o`) writes effective access
    /// ([`Format::carries_access`]).
    pub fn carries_access(&self) -> bool {
        let stdout = self.format.unwrap_or_else(|| {
            stdout_default(std::io::stdout().is_terminal(), !self.outputs.is_empty())
        });
        std::iter::once(stdout)
            .chain(self.outputs.iter().map(|output| output.format))
            .any(Format::carries_access)
    }

    /// Flag combinations that cannot work, checked before any scanning.
    /// Checked before any work: the SARIF flags fit together, and every `-o` path can be
    /// written (a split SARIF target as a directory).
    pub fn check(&self) -> anyhow::Result<()> {
        self.sarif.check(self.format, &self.outputs)?;
        for output in &self.outputs {
            if self.sarif.is_split(output) {
                super::writable::check_directory(output)?;
            } else {
                super::writable::check_outputs(std::slice::from_ref(output))?;
            }
        }
        Ok(())
    }
}

/// `--fail-on`: a severity, or `none` (never fail on findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn(pub Option<Severity>);

pub fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(FailOn(None));
    }
    text.parse::<Severity>()
        .map(|s| FailOn(Some(s)))
        .map_err(|err| format!("{err}, or none"))
}

/// The stdout buffer: the report is streamed in large writes, not held whole.
const STDOUT_BUFFER: usize = 256 * 1024;

/// Writes every requested file, then the stdout report; `fail_policy` gives the table's last
/// line its exit code. A file that cannot be written does not
/// stop the others (nor stdout); the run then fails (exit 2) naming each such path.
pub fn emit(report: &Report, args: &OutputArgs, fail_policy: FailPolicy) -> anyhow::Result<()> {
    let (format, outputs) = (args.format, &args.outputs);
    let sarif_options = args.sarif.options();
    let mut failures = Vec::new();
    for output in outputs {
        // Files never get colour, and tables in files are 100 columns wide.
        let options = RenderOptions {
            fail_policy,
            ..RenderOptions::default()
        };
        let written = if args.sarif.is_split(output) {
            sarif::split::write_split(report, &sarif_options, &output.path).map(|_| ())
        } else {
            report::write_atomic_with(&output.path, |out| match output.format {
                Format::Sarif => sarif::render_with(report, &sarif_options, out),
                _ => report::render_to(report, output.format, options, out),
            })
        };
        if let Err(err) = written {
            failures.push(format!(
                "could not write the {} report to {}: {err}",
                output.format,
                output.path.display()
            ));
        }
    }
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let format = format.unwrap_or(stdout_default(terminal, !outputs.is_empty()));
    let options = RenderOptions {
        color: super::color::enabled(terminal),
        width: stdout_width(terminal),
        fail_policy,
    };
    let mut out = BufWriter::with_capacity(STDOUT_BUFFER, stdout.lock());
    let rendered = match format {
        Format::Sarif => sarif::render_with(report, &sarif_options, &mut out),
        _ => report::render_to(report, format, options, &mut out),
    };
    match rendered.and_then(|()| out.flush()) {
        Ok(()) => {}
        // `kms-audit ... | head`: the reader has what it wanted.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(err) => failures.push(format!("could not write the report to stdout: {err}")),
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(failures.join("; ")))
    }
}

/// The table width on stdout: `COLUMNS` when set, else the terminal's width, else `None` (the
/// 100-column default of files and pipes).
pub fn stdout_width(terminal: bool) -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0);
    columns.or_else(|| {
        terminal
            .then(|| terminal_size::terminal_size_of(std::io::stdout()))
            .flatten()
            .map(|(w, _)| usize::from(w.0))
    })
}

/// The stdout format without `--format`: a table for a person at a terminal, and for the log of
/// a job whose reports go to files; JSON for a pipe.
pub fn stdout_default(terminal: bool, writes_files: bool) -> Format {
    if terminal || writes_files {
        Format::Table
    } else {
        Format::Json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_accepts_severities_and_none() {
        assert_eq!(parse_fail_on("none"), Ok(FailOn(None)));
        assert_eq!(parse_fail_on("HIGH"), Ok(FailOn(Some(Severity::High))));
        assert!(parse_fail_on("severe").unwrap_err().contains("or none"));
    }

    #[test]
    fn only_json_html_and_access_csv_keep_access() {
        let carrying: Vec<Format> = Format::ALL
            .into_iter()
            .filter(|format| format.carries_access())
            .collect();
        assert_eq!(carrying, [Format::Json, Format::Html, Format::AccessCsv]);
    }

    #[test]
    fn stdout_defaults() {
        assert_eq!(stdout_default(true, false), Format::Table);
        assert_eq!(stdout_default(false, true), Format::Table);
        assert_eq!(stdout_default(false, false), Format::Json);
    }
}
