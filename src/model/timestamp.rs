//! Timestamps as the reports write them (RFC 3339, UTC).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now_rfc3339() -> String {
    format_rfc3339(OffsetDateTime::now_utc())
}

pub fn format_rfc3339(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Seconds since the Unix epoch (for names that must be unique per run).
pub fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
