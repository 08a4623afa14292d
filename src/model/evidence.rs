//! A finding's evidence, kept as compact JSON text (see [`super::compact_json`]).
//!
//! A large inventory yields tens of thousands of findings; as a `serde_json::Value` (an ordered
//! map per object, a heap string per key) their evidence costs several times its text. Reports
//! only copy it through, so it is parsed only when code looks inside it.

use std::fmt;
use std::ops::Index;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::compact_json::CompactJson;

/// Any JSON value, stored compact. Indexing (`evidence["reason"]`) parses it once, on demand.
pub struct Evidence {
    raw: CompactJson,
    parsed: OnceLock<Box<Value>>,
}

impl Evidence {
    fn from_raw(raw: CompactJson) -> Evidence {
        Evidence {
            raw,
            parsed: OnceLock::new(),
        }
    }

    /// The compact JSON text.
    pub fn json(&self) -> &str {
        self.raw.json()
    }

    /// Makes this evidence share the text of an equal one `interner` saw before: a check's
    /// findings on keys in the same state carry the same evidence.
    pub fn share_with(&mut self, interner: &mut super::compact_json::TextInterner) {
        interner.share(&mut self.raw);
    }

    pub fn is_null(&self) -> bool {
        self.json() == "null"
    }

    /// The evidence as a value (parsed once, then shared).
    pub fn value(&self) -> &Value {
        self.parsed.get_or_init(|| Box::new(self.raw.to_value()))
    }

    /// A field of the evidence, `Null` when absent.
    pub fn get(&self, field: &str) -> &Value {
        &self.value()[field]
    }
}

impl From<Value> for Evidence {
    fn from(value: Value) -> Self {
        Evidence::from_raw(CompactJson::from_value(&value))
    }
}

impl Default for Evidence {
    /// `null`: what a report without an `evidence` field means.
    fn default() -> Self {
        Evidence::from_raw(CompactJson::null())
    }
}

impl Clone for Evidence {
    fn clone(&self) -> Self {
        Evidence::from_raw(self.raw.clone())
    }
}

impl PartialEq for Evidence {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl PartialEq<Value> for Evidence {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl Index<&str> for Evidence {
    type Output = Value;
    fn index(&self, field: &str) -> &Value {
        self.get(field)
    }
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        CompactJson::deserialize(deserializer).map(Evidence::from_raw)
    }
}

impl JsonSchema for Evidence {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evidence_round_trips_compact_and_indexes_like_a_value() {
        let evidence = Evidence::from(json!({"reason": "x", "n": [1, 2]}));
        assert_eq!(evidence.json(), r#"{"reason":"x","n":[1,2]}"#);
        assert_eq!(evidence["reason"], "x");
        assert_eq!(evidence["missing"], Value::Null);
        let pretty = serde_json::to_string_pretty(&json!({"e": evidence})).unwrap();
        #[derive(Deserialize)]
        struct Holder {
            e: Evidence,
        }
        let back: Holder = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back.e, evidence);
        assert!(Evidence::default().is_null());
    }
}
