//! A YAML or JSON document as a tree whose every node and mapping key remembers its line and
//! column, so that spec errors and drift findings can point at the exact place in the file.
//!
//! Parsing goes through serde-saphyr (YAML 1.2; JSON is read as YAML flow style, which keeps
//! the line numbers of JSON files too). Duplicate mapping keys are rejected by the parser.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::SpecError;
use crate::model::Text;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    fn of(location: &serde_saphyr::Location) -> Pos {
        Pos {
            line: location.line(),
            column: location.column(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// Short strings (most keys and many values) are held inline, without an allocation.
    Str(Text),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: Text,
    pub pos: Pos,
}

impl Node {
    /// What the node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "null".to_string(),
            Kind::Bool(b) => format!("boolean {b}"),
            Kind::Int(i) => format!("number {i}"),
            Kind::Float(f) => format!("number {f}"),
            Kind::Str(s) if s.chars().count() > 40 => "a string".to_string(),
            Kind::Str(s) => format!("string \"{s}\""),
            Kind::Seq(_) => "a list".to_string(),
            Kind::Map(_) => "a mapping".to_string(),
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The entry `name` of a mapping, with its key.
    pub fn entry(&self, name: &str) -> Option<(&Key, &Node)> {
        self.as_map()?
            .iter()
            .find(|(key, _)| key.name == name)
            .map(|(key, node)| (key, node))
    }

    /// The value `name` of a mapping.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.entry(name).map(|(_, node)| node)
    }

    /// The value as plain JSON (locations dropped), e.g. for an inline key policy.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => i64::try_from(*i)
                .map(Value::from)
                .or_else(|_| u64::try_from(*i).map(Value::from))
                .unwrap_or_else(|_| Value::String(i.to_string())),
            Kind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Kind::Str(s) => Value::String(s.to_string()),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, node)| (key.name.to_string(), node.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses one document as YAML (JSON being YAML's flow style), never taking the JSON fast path
/// (the fuzz suite compares the two).
pub fn parse_yaml(text: &str, file: &str) -> Result<Node, SpecError> {
    if text.trim().is_empty() {
        return Ok(Node {
            pos: Pos { line: 1, column: 1 },
            kind: Kind::Null,
        });
    }
    match crate::inputs::yaml::from_str::<Spanned<Raw>>(text) {
        Ok(spanned) => Ok(convert(spanned)),
        Err(err) => {
            let pos = crate::inputs::yaml::location(&err)
                .map(|(line, column)| Pos { line, column })
                .unwrap_or_default();
            Err(SpecError::at(
                file,
                pos,
                None,
                format!("invalid YAML/JSON: {}", crate::inputs::yaml::message(&err)),
            ))
        }
    }
}

fn convert(spanned: Spanned<Raw>) -> Node {
    let pos = Pos::of(&spanned.referenced);
    let kind = match spanned.value {
        Raw::Null => Kind::Null,
        Raw::Bool(b) => Kind::Bool(b),
        Raw::Int(i) => Kind::Int(i),
        Raw::Float(f) => Kind::Float(f),
        Raw::Str(s) => Kind::Str(s.into()),
        Raw::Seq(items) => Kind::Seq(items.into_iter().map(convert).collect()),
        Raw::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(key, value)| {
                    (
                        Key {
                            name: key.value.into(),
                            pos: Pos::of(&key.referenced),
                        },
                        convert(value),
                    )
                })
                .collect(),
        ),
    };
    Node { pos, kind }
}

/// The deserialization target: any YAML value, with spans on every child.
enum Raw {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Int(i128::from(v)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        i128::try_from(v)
            .map(Raw::Int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        Raw::deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Raw>>()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::spec::parse_document as parse;

    #[test]
    fn yaml_nodes_and_keys_remember_lines_and_columns() {
        let doc = parse(
            "defaults: {account: '111111111111'}\nkeys:\n  - alias: alias/a\n    enabled: true\n",
            "s.yaml",
        )
        .expect("parses");
        let keys = doc.get("keys").expect("keys");
        let first = &keys.as_seq().expect("list")[0];
        assert_eq!(first.pos.line, 3);
        let (key, value) = first.entry("enabled").expect("enabled");
        assert_eq!((key.pos.line, key.pos.column), (4, 5));
        assert_eq!(value.kind, Kind::Bool(true));
        assert_eq!(
            doc.get("defaults").and_then(|d| d.get("account")),
            Some(&Node {
                pos: Pos {
                    line: 1,
                    column: 21
                },
                kind: Kind::Str("111111111111".into())
            })
        );
    }

    #[test]
    fn json_is_read_with_lines_even_when_indented_with_tabs() {
        let doc = parse(
            "{\n\t\"keys\": [\n\t\t{\"alias\": \"alias/a\",\n\t\t \"policy\": {\"x\": \"\\u0026\"}}\n\t]\n}\n",
            "s.json",
        )
        .expect("parses");
        let item = &doc.get("keys").and_then(Node::as_seq).expect("keys")[0];
        assert_eq!(item.pos.line, 3);
        assert_eq!(item.get("policy").map(|p| p.pos.line), Some(4));
        assert_eq!(
            item.get("policy").map(Node::to_json),
            Some(serde_json::json!({"x": "&"}))
        );
    }

    #[test]
    fn parser_errors_carry_file_line_and_column() {
        let err = parse("keys:\n  - alias: a\n    alias: b\n", "dup.yaml").expect_err("dup");
        assert_eq!((err.line, err.column), (3, 5));
        assert!(err.message.contains("duplicate mapping key"), "{err}");
        assert!(!err.message.contains("line 3"), "{err}");
        let err = parse("a: [1, 2\n", "x.yaml").expect_err("unclosed");
        assert_eq!(err.to_string(), format!("x.yaml:1:4: {}", err.message));
    }

    #[test]
    fn an_empty_file_is_null() {
        assert_eq!(parse(" \n", "e.yaml").expect("empty").kind, Kind::Null);
    }
}
