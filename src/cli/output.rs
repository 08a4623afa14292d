//! Writing reports: files first (atomically), then stdout.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use crate::report::{self, Format, OutputTarget, RenderOptions};

/// Writes the requested files, then the stdout report. Files first: if one cannot be written the
/// run fails (exit 2) with the path in the message.
pub fn emit(
    report: &crate::model::Report,
    format: Option<Format>,
    outputs: &[OutputTarget],
) -> anyhow::Result<()> {
    for output in outputs {
        let text = report::render(report, output.format, RenderOptions::default());
        report::write_atomic(&output.path, text.as_bytes()).with_context(|| {
            format!(
                "could not write the {} report to {}",
                output.format,
                output.path.display()
            )
        })?;
    }
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let format = format.unwrap_or(if terminal {
        Format::Table
    } else {
        Format::Json
    });
    let options = RenderOptions {
        color: terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = report::render(report, format, options);
    let mut lock = stdout.lock();
    lock.write_all(text.as_bytes())
        .and_then(|_| lock.flush())
        .context("could not write the report to stdout")?;
    Ok(())
}
