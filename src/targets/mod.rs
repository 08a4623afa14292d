//! What to scan: the accounts and the regions.

pub mod regions;

pub use regions::{RegionInfo, select_regions};

/// One account to scan, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTarget {
    pub id: String,
    pub name: Option<String>,
}
