//! Rendering a report, and writing it where the user asked (stdout or files, atomically).

pub mod json;
pub mod output;
pub mod table;

use std::fmt;
use std::str::FromStr;

use crate::model::Report;

pub use output::{OutputTarget, write_atomic};

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// Human-readable tables (summary, keys, coverage gaps).
    Table,
    /// The canonical machine-readable result, including the inventory.
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "unknown report format '{other}' (expected table or json)"
            )),
        }
    }
}

/// Presentation choices that depend on where the output goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colour (only on a terminal, never with NO_COLOR).
    pub color: bool,
}

/// Renders the report in one format.
pub fn render(report: &Report, format: Format, options: RenderOptions) -> String {
    match format {
        Format::Table => table::render(report, options),
        Format::Json => json::render(report),
    }
}
