//! Any JSON value kept as compact text: the storage behind [`super::PolicyDocument`] and
//! [`super::Evidence`].
//!
//! Policies and evidence are most of a large inventory's memory as `serde_json::Value` trees, and
//! most stages (reports, merge, baseline) only copy them through; as text they cost their length.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// Valid JSON with no whitespace outside strings, written to JSON output as the value itself.
/// Two are equal when their texts are.
#[derive(Clone)]
pub struct CompactJson(Box<RawValue>);

impl CompactJson {
    /// A value built in memory.
    pub fn from_value(value: &Value) -> CompactJson {
        // Serializing a `Value` yields valid compact JSON, which `RawValue` accepts.
        match RawValue::from_string(value.to_string()) {
            Ok(raw) => CompactJson(raw),
            Err(_) => CompactJson::null(),
        }
    }

    /// JSON text as read (a saved report is pretty-printed, KMS returns policies indented).
    pub fn from_raw(raw: &RawValue) -> CompactJson {
        match compact(raw.get()).map(RawValue::from_string) {
            // Removing whitespace outside strings keeps the JSON valid.
            Some(Ok(compacted)) => CompactJson(compacted),
            _ => CompactJson(raw.to_owned()),
        }
    }

    pub fn null() -> CompactJson {
        match RawValue::from_string("null".to_string()) {
            Ok(raw) => CompactJson(raw),
            Err(_) => unreachable!("`null` is JSON"),
        }
    }

    /// The compact JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The value, parsed.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

/// `text` without JSON whitespace outside strings, or `None` when it has none.
fn compact(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    if !bytes.iter().any(|&b| is_space(b)) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
            out.push(b);
        } else if !is_space(b) {
            out.push(b);
        }
    }
    if out.len() == bytes.len() {
        return None;
    }
    // Only ASCII whitespace bytes were dropped, so the rest is still UTF-8.
    String::from_utf8(out).ok()
}

impl PartialEq for CompactJson {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Eq for CompactJson {}

impl fmt::Debug for CompactJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl fmt::Display for CompactJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl Serialize for CompactJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CompactJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(match compact(raw.get()).map(RawValue::from_string) {
            Some(Ok(compacted)) => CompactJson(compacted),
            _ => CompactJson(raw),
        })
    }
}

impl JsonSchema for CompactJson {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CompactJson".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Value::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_text_reads_back_compact_and_equal() {
        let value = CompactJson::from_value(&json!({"Sid": "a b\" c", "n": [1, 2]}));
        assert_eq!(value.json(), r#"{"Sid":"a b\" c","n":[1,2]}"#);
        let pretty = serde_json::to_string_pretty(&json!({"v": value})).unwrap();
        assert!(pretty.contains('\n'));
        #[derive(Deserialize)]
        struct Holder {
            v: CompactJson,
        }
        let back: Holder = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back.v, value);
        let from_value: Holder =
            serde_json::from_value(json!({"v": {"Sid": "a b\" c", "n": [1, 2]}})).unwrap();
        assert_eq!(from_value.v, value);
    }
}
