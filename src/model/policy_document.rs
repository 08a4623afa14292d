//! A key policy kept as compact JSON text (see [`super::compact_json`]). The checks and the
//! drift comparison parse a policy when they look inside it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::compact_json::CompactJson;

/// A key policy document, written to JSON reports as the document itself. Two documents are
/// equal when their compact texts are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PolicyDocument(CompactJson);

impl PolicyDocument {
    /// The policy text as KMS returned it. A key policy is always JSON in AWS; anything else is
    /// kept verbatim as a JSON string rather than lost (the policy checks then report it).
    pub fn from_text(text: &str) -> PolicyDocument {
        match serde_json::from_str::<&RawValue>(text) {
            Ok(raw) => PolicyDocument(CompactJson::from_raw(raw)),
            Err(_) => PolicyDocument::from_value(&Value::String(text.to_string())),
        }
    }

    /// A document built in memory (fixtures, tests, importers).
    pub fn from_value(value: &Value) -> PolicyDocument {
        PolicyDocument(CompactJson::from_value(value))
    }

    /// The compact JSON text.
    pub fn json(&self) -> &str {
        self.0.json()
    }

    /// Makes this document share the text of an equal one `interner` saw before.
    pub fn share_with(&mut self, interner: &mut super::compact_json::TextInterner) {
        interner.share(&mut self.0);
    }

    /// The document as a `Value`, for code that walks it (the analyzer, the drift diff).
    pub fn to_value(&self) -> Value {
        self.0.to_value()
    }
}

/// Any JSON value, inline (as `CompactJson`): the report schema does not constrain policies.
impl JsonSchema for PolicyDocument {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        CompactJson::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        CompactJson::json_schema(generator)
    }
}

impl From<Value> for PolicyDocument {
    fn from(value: Value) -> Self {
        PolicyDocument::from_value(&value)
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
}
