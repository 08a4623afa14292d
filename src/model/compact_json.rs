//! Any JSON value kept as compact text: the storage behind [`super::PolicyDocument`] and
//! [`super::Evidence`].
//!
//! Policies and evidence are most of a large inventory's memory as `serde_json::Value` trees, and
//! most stages (reports, merge, baseline) only copy them through; as text they cost their length.
//! The text is reference-counted, so equal documents (the same key policy on the thousands of
//! keys of an account) can be one allocation: [`TextInterner`].

use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// Valid JSON with no whitespace outside strings, written to JSON output as the value itself.
/// Two are equal when their texts are; a clone shares the text.
#[derive(Clone)]
pub struct CompactJson(Arc<RawValue>);

impl CompactJson {
    /// A value built in memory.
    pub fn from_value(value: &Value) -> CompactJson {
        // Serializing a `Value` yields valid compact JSON, which `RawValue` accepts.
        match RawValue::from_string(value.to_string()) {
            Ok(raw) => CompactJson(raw.into()),
            Err(_) => CompactJson::null(),
        }
    }

    /// JSON text as read (a saved report is pretty-printed, KMS returns policies indented).
    pub fn from_raw(raw: &RawValue) -> CompactJson {
        match compact(raw.get()).map(RawValue::from_string) {
            // Removing whitespace outside strings keeps the JSON valid.
            Some(Ok(compacted)) => CompactJson(compacted.into()),
            _ => CompactJson(raw.to_owned().into()),
        }
    }

    pub fn null() -> CompactJson {
        match RawValue::from_string("null".to_string()) {
            Ok(raw) => CompactJson(raw.into()),
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
        (*self.0).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CompactJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(match compact(raw.get()).map(RawValue::from_string) {
            Some(Ok(compacted)) => CompactJson(compacted.into()),
            _ => CompactJson(raw.into()),
        })
    }
}

/// One copy of each distinct text: [`TextInterner::share`] makes an equal document the copy
/// already seen, so a report read from disk (or a scan) holds each distinct key policy once.
#[derive(Default)]
pub struct TextInterner {
    seen: std::collections::HashSet<SharedText>,
}

/// A [`CompactJson`]'s text, hashed and compared as the text.
struct SharedText(Arc<RawValue>);

impl std::hash::Hash for SharedText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.get().hash(state)
    }
}

impl PartialEq for SharedText {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Eq for SharedText {}

impl std::borrow::Borrow<str> for SharedText {
    fn borrow(&self) -> &str {
        self.0.get()
    }
}

impl TextInterner {
    /// Makes `json` share the text of the first equal document this interner saw.
    pub fn share(&mut self, json: &mut CompactJson) {
        match self.seen.get(json.json()) {
            Some(seen) => {
                if !Arc::ptr_eq(&seen.0, &json.0) {
                    json.0 = Arc::clone(&seen.0);
                }
            }
            None => {
                self.seen.insert(SharedText(Arc::clone(&json.0)));
            }
        }
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

    #[test]
    fn equal_texts_become_one_allocation_and_stay_equal() {
        let mut first = CompactJson::from_value(&json!({"Statement": [1]}));
        let mut second = CompactJson::from_value(&json!({"Statement": [1]}));
        let mut other = CompactJson::from_value(&json!({"Statement": [2]}));
        assert!(!Arc::ptr_eq(&first.0, &second.0));
        let mut interner = TextInterner::default();
        for json in [&mut first, &mut second, &mut other] {
            interner.share(json);
        }
        assert!(Arc::ptr_eq(&first.0, &second.0));
        assert!(!Arc::ptr_eq(&first.0, &other.0));
        assert_eq!(second.json(), r#"{"Statement":[1]}"#);
        assert_eq!(other.json(), r#"{"Statement":[2]}"#);
        assert_eq!(
            serde_json::to_string(&second).unwrap(),
            r#"{"Statement":[1]}"#
        );
    }
}
