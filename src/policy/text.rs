//! How reason texts quote values from a policy: as JSON strings, so a Sid or a condition value
//! holding quotes or control characters reads unambiguously (and cannot forge a reason).

use serde_json::Value;

/// A string as JSON text (`"x"`), the way reason texts quote values.
pub(crate) fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}
