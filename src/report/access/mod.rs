//! Effective access, for auditors and for the terminal: `--format access-csv` (every key of a
//! report) and the table of `kms-audit access KEY` (one key).
//!
//! Both render [`crate::model::access`] as the analysis computed it; an entry the analysis
//! could not decide says `may`, with the reason. Principals, paths and conditions quote text
//! read from AWS (ARNs, Sids, grant names, condition values): the CSV defuses spreadsheet
//! formulas, the table replaces control characters.

mod csv;
mod table;

pub use csv::{COLUMNS, render_csv};
pub use table::render_key_table;
