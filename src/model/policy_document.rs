//! A key policy kept as compact JSON text.
//!
//! Policies are the bulk of an inventory: as a `serde_json::Value` one costs ~6 KB of heap per key,
//! as text a fraction of that, and most stages (reports, merge, baseline) only copy them through.
//! The checks and the drift comparison parse a policy when they look inside it.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A key policy document: valid JSON, stored compact (no whitespace outside strings), written to
/// JSON reports as the document itself. Two documents are equal when their compact texts are.
#[derive(Clone)]
pub struct PolicyDocument(Box<RawValue>);

impl PolicyDocument {
    /// The policy text as KMS returned it. A key policy is always JSON in AWS; anything else is
    /// kept verbatim as a JSON string rather than lost (the policy checks then report it).
    pub fn from_text(text: &str) -> PolicyDocument {
        match serde_json::from_str::<&RawValue>(text) {
            Ok(raw) => PolicyDocument::from_raw(raw),
            Err(_) => PolicyDocument::from_value(&Value::String(text.to_string())),
        }
    }

    /// A document built in memory (fixtures, tests, importers).
    pub fn from_value(value: &Value) -> PolicyDocument {
        // Serializing a `Value` yields valid compact JSON, which `RawValue` accepts.
        let text = value.to_string();
        match RawValue::from_string(text) {
            Ok(raw) => PolicyDocument(raw),
            Err(_) => PolicyDocument(empty_object()),
        }
    }

    fn from_raw(raw: &RawValue) -> PolicyDocument {
        let text = raw.get();
        match compact(text) {
            None => PolicyDocument(raw.to_owned()),
            // Removing whitespace outside strings keeps the JSON valid.
            Some(compacted) => match RawValue::from_string(compacted) {
                Ok(raw) => PolicyDocument(raw),
                Err(_) => PolicyDocument(raw.to_owned()),
            },
        }
    }

    /// The compact JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The document as a `Value`, for code that walks it (the analyzer, the drift diff).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).unwrap_or_else(|_| unreachable!("`{{}}` is JSON"))
}

/// `text` without JSON whitespace outside strings, or `None` when it has none.
pub(super) fn compact(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    if !bytes.iter().any(|&b| is_space(b)) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
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

impl From<Value> for PolicyDocument {
    fn from(value: Value) -> Self {
        PolicyDocument::from_value(&value)
    }
}

impl PartialEq for PolicyDocument {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Eq for PolicyDocument {}

impl fmt::Debug for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(match compact(raw.get()) {
            None => PolicyDocument(raw),
            Some(_) => PolicyDocument::from_raw(&raw),
        })
    }
}

impl JsonSchema for PolicyDocument {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PolicyDocument".into()
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
    fn kms_text_is_stored_compact_and_written_as_a_document() {
        let doc = PolicyDocument::from_text(
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ {\"Sid\": \"a b\\\" c\"} ]\n}",
        );
        assert_eq!(
            doc.json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"a b\" c"}]}"#
        );
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "a b\" c"}]})
        );
    }

    #[test]
    fn non_json_text_is_kept_as_a_string() {
        let doc = PolicyDocument::from_text("not { json");
        assert_eq!(doc.to_value(), json!("not { json"));
    }

    #[test]
    fn pretty_saved_documents_read_back_equal() {
        let doc = PolicyDocument::from_value(&json!({"Statement": [{"Effect": "Allow"}]}));
        let pretty = serde_json::to_string_pretty(&json!({"policy": doc})).unwrap();
        assert!(pretty.contains('\n'));
        #[derive(Deserialize)]
        struct Holder {
            policy: PolicyDocument,
        }
        let back: Holder = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back.policy, doc);
        let from_value: Holder =
            serde_json::from_value(json!({"policy": {"Statement": [{"Effect": "Allow"}]}}))
                .unwrap();
        assert_eq!(from_value.policy, doc);
    }
}
