//! A strict JSON reader into [`Node`]s, for the large machine-written inputs (Terraform state,
//! `terraform show -json`, Pulumi exports): about ten times faster than reading JSON as YAML,
//! with the same lines and columns.
//!
//! It returns `None` for anything that is not plain JSON (comments, YAML, a syntax error, a
//! duplicate key); the caller then reads the text with the YAML parser, whose messages name the
//! problem. So this reader never decides what an error says, only how fast valid JSON is read.

use std::borrow::Cow;
use std::collections::HashSet;

use super::node::{Key, Kind, Node, Pos};

/// Deepest nesting accepted (the YAML reader's limit is lower; deeper input falls back to it).
const MAX_DEPTH: usize = 128;

/// The document `text` holds, if it is one valid JSON value.
pub fn parse(text: &str) -> Option<Node> {
    let mut reader = Reader::new(text);
    reader.skip_ws();
    let node = reader.value()?;
    reader.skip_ws();
    (reader.at == reader.bytes.len()).then_some(node)
}

/// The document `text` holds, if it is one valid JSON value, with only what kms-audit reads of
/// it when it is `terraform show -json` output: of `values` and `planned_values`, the managed
/// resources of the KMS types in every module, and of each only `address`, `mode`, `type`,
/// `deposed_key` and `values` ([`super::terraform`] reads nothing else). Everything else is
/// still read in full, so invalid JSON anywhere is refused exactly as by [`parse`]; a
/// `terraform show -json` of 10,000 keys then takes about a third of the memory.
pub fn parse_spec(text: &str) -> Option<Node> {
    let mut reader = Reader::new(text);
    reader.skip_ws();
    let node = if reader.peek() == Some(b'{') {
        reader.top()?
    } else {
        reader.value()?
    };
    reader.skip_ws();
    (reader.at == reader.bytes.len()).then_some(node)
}

/// What to do with one entry of a mapping, or item of a list, being read.
enum Take {
    /// Read it into a node.
    Node(Node),
    /// Leave it out (it was checked, not kept).
    Drop,
}

/// Where a reader is: to come back to a value once it is known to be wanted.
#[derive(Clone, Copy)]
struct Mark {
    at: usize,
    line: u64,
    line_start: usize,
    counted: (usize, u64),
    depth: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    line: u64,
    /// Byte offset where the current line starts.
    line_start: usize,
    /// The last position whose column was counted, and its characters from the line start.
    counted: (usize, u64),
    depth: usize,
}

/// The fields of a `terraform show -json` resource that [`super::terraform`] reads.
const SHOW_RESOURCE_FIELDS: &[&str] = &["address", "mode", "type", "deposed_key"];

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            bytes: text.as_bytes(),
            text,
            at: 0,
            line: 1,
            line_start: 0,
            counted: (0, 0),
            depth: 0,
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            at: self.at,
            line: self.line,
            line_start: self.line_start,
            counted: self.counted,
            depth: self.depth,
        }
    }

    fn reset(&mut self, mark: Mark) {
        self.at = mark.at;
        self.line = mark.line;
        self.line_start = mark.line_start;
        self.counted = mark.counted;
        self.depth = mark.depth;
    }

    fn pos(&mut self) -> Pos {
        // Columns count characters, as the YAML reader's do: counted on from the last position
        // asked for on the same line, so a one-line document (`terraform show -json`) stays
        // linear.
        let (from, base) = if self.counted.0 >= self.line_start && self.counted.0 <= self.at {
            self.counted
        } else {
            (self.line_start, 0)
        };
        let chars = base + self.text[from..self.at].chars().count() as u64;
        self.counted = (self.at, chars);
        Pos {
            line: self.line,
            column: chars + 1,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                _ => break,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        self.bytes[self.at..]
            .starts_with(word.as_bytes())
            .then(|| self.at += word.len())
    }

    fn value(&mut self) -> Option<Node> {
        let pos = self.pos();
        let kind = match self.peek()? {
            b'{' => Kind::Map(self.map_with(|r, _| r.value().map(Take::Node))?),
            b'[' => Kind::Seq(self.seq_with(|r| r.value().map(Take::Node))?),
            b'"' => Kind::Str(self.string()?.into()),
            _ => self.scalar()?,
        };
        Some(Node { pos, kind })
    }

    /// `true`, `false`, `null` or a number.
    fn scalar(&mut self) -> Option<Kind> {
        match self.peek()? {
            b't' => self.literal("true").map(|()| Kind::Bool(true)),
            b'f' => self.literal("false").map(|()| Kind::Bool(false)),
            b'n' => self.literal("null").map(|()| Kind::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Checks a value as [`Reader::value`] would read it, keeping nothing.
    fn skip(&mut self) -> Option<Take> {
        match self.peek()? {
            b'{' => {
                self.map_with(|r, _| r.skip())?;
            }
            b'[' => {
                self.seq_with(|r| r.skip())?;
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                self.scalar()?;
            }
        }
        Some(Take::Drop)
    }

    /// The top-level mapping: `values` and `planned_values` are read last, pruned when the
    /// document is `terraform show -json` output (see [`parse_spec`]).
    fn top(&mut self) -> Option<Node> {
        let pos = self.pos();
        let mut deferred: Vec<(usize, Mark)> = Vec::new();
        let mut next = 0;
        let mut entries = self.map_with(|r, name| {
            if matches!(name, "values" | "planned_values") {
                deferred.push((next, r.mark()));
                r.skip()?;
                next += 1;
                // A placeholder, replaced below.
                return Some(Take::Node(Node {
                    pos: Pos::default(),
                    kind: Kind::Null,
                }));
            }
            next += 1;
            r.value().map(Take::Node)
        })?;
        let end = self.mark();
        let has = |name: &str| entries.iter().any(|(k, _)| k.name == name);
        // The shapes `detect_format` reads as something else keep everything.
        let other_format = has("keys")
            || has("defaults")
            || has("checkpoint")
            || (has("deployment") && has("version"));
        let show = has("format_version") && !other_format;
        for (index, mark) in deferred {
            self.reset(mark);
            let node = if show && self.peek() == Some(b'{') {
                let pos = self.pos();
                let kind = Kind::Map(self.map_with(|r, name| {
                    if name == "root_module" && r.peek() == Some(b'{') {
                        r.module().map(Take::Node)
                    } else {
                        r.value().map(Take::Node)
                    }
                })?);
                Node { pos, kind }
            } else {
                self.value()?
            };
            entries[index].1 = node;
        }
        self.reset(end);
        Some(Node {
            pos,
            kind: Kind::Map(entries),
        })
    }

    /// A module of `terraform show -json`: its KMS resources, its child modules.
    fn module(&mut self) -> Option<Node> {
        let pos = self.pos();
        let kind = Kind::Map(self.map_with(|r, name| match (name, r.peek()) {
            ("resources", Some(b'[')) => {
                let pos = r.pos();
                let items = r.seq_with(|r| {
                    if r.peek() == Some(b'{') {
                        r.resource()
                    } else {
                        r.skip()
                    }
                })?;
                Some(Take::Node(Node {
                    pos,
                    kind: Kind::Seq(items),
                }))
            }
            ("child_modules", Some(b'[')) => {
                let pos = r.pos();
                let items = r.seq_with(|r| {
                    if r.peek() == Some(b'{') {
                        r.module().map(Take::Node)
                    } else {
                        r.value().map(Take::Node)
                    }
                })?;
                Some(Take::Node(Node {
                    pos,
                    kind: Kind::Seq(items),
                }))
            }
            _ => r.value().map(Take::Node),
        })?);
        Some(Node { pos, kind })
    }

    /// A resource of `terraform show -json`: kept only when it is a managed resource of a KMS
    /// type, with only the fields the importer reads; its `values` are read once it is known
    /// to be kept.
    fn resource(&mut self) -> Option<Take> {
        let pos = self.pos();
        let mut values: Option<(usize, Mark)> = None;
        let mut next = 0;
        let mut entries = self.map_with(|r, name| {
            if name == "values" {
                values = Some((next, r.mark()));
                r.skip()?;
                next += 1;
                return Some(Take::Node(Node {
                    pos: Pos::default(),
                    kind: Kind::Null,
                }));
            }
            if SHOW_RESOURCE_FIELDS.contains(&name) {
                next += 1;
                r.value().map(Take::Node)
            } else {
                r.skip()
            }
        })?;
        let field = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.name == name)
                .and_then(|(_, v)| v.as_str())
        };
        let wanted = field("mode") == Some("managed")
            && field("type").is_some_and(super::terraform::is_kms_type);
        if !wanted {
            return Some(Take::Drop);
        }
        if let Some((index, mark)) = values {
            let end = self.mark();
            self.reset(mark);
            entries[index].1 = if self.peek() == Some(b'{') {
                self.attributes()?
            } else {
                self.value()?
            };
            self.reset(end);
        }
        Some(Take::Node(Node {
            pos,
            kind: Kind::Map(entries),
        }))
    }

    /// The `values` of a kept resource: the attributes the importer reads
    /// ([`super::import::READ_ATTRIBUTES`]); `tags` only when there are no `tags_all`, which it
    /// reads first.
    fn attributes(&mut self) -> Option<Node> {
        let pos = self.pos();
        let mut entries = self.map_with(|r, name| {
            if super::import::READ_ATTRIBUTES.contains(&name) {
                r.value().map(Take::Node)
            } else {
                r.skip()
            }
        })?;
        let tags_all = entries
            .iter()
            .any(|(k, v)| k.name == "tags_all" && v.as_map().is_some());
        if tags_all {
            entries.retain(|(k, _)| k.name != "tags");
        }
        Some(Node {
            pos,
            kind: Kind::Map(entries),
        })
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Reads a mapping, each value by `entry` (given the key), which keeps or drops it.
    /// Duplicate keys are an error the YAML reader explains, so they are refused here.
    fn map_with(
        &mut self,
        mut entry: impl FnMut(&mut Self, &str) -> Option<Take>,
    ) -> Option<Vec<(Key, Node)>> {
        self.enter()?;
        self.at += 1;
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut names: Vec<Cow<'a, str>> = Vec::new();
        let mut seen: Option<HashSet<Cow<'a, str>>> = None;
        self.skip_ws();
        if self.eat(b'}').is_none() {
            loop {
                self.skip_ws();
                let pos = self.pos();
                if self.peek()? != b'"' {
                    return None;
                }
                let name = self.string()?;
                let duplicate = match &mut seen {
                    Some(set) => !set.insert(name.clone()),
                    None if names.len() >= 16 => {
                        let mut set: HashSet<Cow<'a, str>> =
                            std::mem::take(&mut names).into_iter().collect();
                        let dup = !set.insert(name.clone());
                        seen = Some(set);
                        dup
                    }
                    None => {
                        let dup = names.contains(&name);
                        names.push(name.clone());
                        dup
                    }
                };
                if duplicate {
                    return None;
                }
                self.skip_ws();
                self.eat(b':')?;
                self.skip_ws();
                if let Take::Node(value) = entry(self, &name)? {
                    entries.push((
                        Key {
                            name: name.into(),
                            pos,
                        },
                        value,
                    ));
                }
                self.skip_ws();
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        // Kept as long as the document: without the room left by growing.
        entries.shrink_to_fit();
        Some(entries)
    }

    /// Reads a list, each item by `item`, which keeps or drops it.
    fn seq_with(&mut self, mut item: impl FnMut(&mut Self) -> Option<Take>) -> Option<Vec<Node>> {
        self.enter()?;
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']').is_none() {
            loop {
                self.skip_ws();
                if let Take::Node(node) = item(self)? {
                    items.push(node);
                }
                self.skip_ws();
                match self.peek()? {
                    b',' => self.at += 1,
                    b']' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        items.shrink_to_fit();
        Some(items)
    }

    /// A string, borrowed from the text when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let text: &'a str = self.text;
        self.at += 1; // the opening quote
        let start = self.at;
        // Fast path: no escapes.
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'"' => {
                    let s = text.get(start..self.at)?;
                    self.at += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => break,
                0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        let mut out = self.text.get(start..self.at)?.to_string();
        loop {
            let b = self.peek()?;
            match b {
                b'"' => {
                    self.at += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.at += 1;
                    let escape = self.peek()?;
                    self.at += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let high = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&high) {
                                self.literal("\\u")?;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                            } else {
                                char::from_u32(high)?
                            };
                            out.push(c);
                        }
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => {
                    // Copy the run up to the next quote or backslash.
                    let run = self.at;
                    while let Some(&c) = self.bytes.get(self.at) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        self.at += 1;
                    }
                    out.push_str(self.text.get(run..self.at)?);
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        let value = u32::from_str_radix(digits, 16).ok()?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        Some(value)
    }

    fn number(&mut self) -> Option<Kind> {
        let start = self.at;
        self.eat(b'-');
        let digits = |r: &mut Self| {
            let from = r.at;
            while r.peek().is_some_and(|b| b.is_ascii_digit()) {
                r.at += 1;
            }
            r.at - from
        };
        let int_digits = digits(self);
        if int_digits == 0 || (int_digits > 1 && self.bytes[self.at - int_digits] == b'0') {
            return None;
        }
        let mut float = false;
        if self.eat(b'.').is_some() {
            float = true;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        let text = &self.text[start..self.at];
        if float {
            // Leave odd floats (overflow, exponents) to the YAML reader's rules.
            let value: f64 = text.parse().ok()?;
            value.is_finite().then_some(Kind::Float(value))
        } else {
            text.parse::<i128>().ok().map(Kind::Int)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Option<Node>, Option<Node>) {
        (
            parse(text),
            super::super::node::parse_yaml(text, "t.json").ok(),
        )
    }

    #[test]
    fn gives_the_same_nodes_and_positions_as_the_yaml_reader() {
        for text in [
            "{\"a\": 1, \"b\": [true, false, null, -2, 1.5, \"x\\u00e9\\n\"], \"c\": {}}",
            "{\n  \"version\": 4,\n  \"resources\": [\n    {\n      \"name\": \"é\",\n\t\"x\": \"y\"\n    }\n  ]\n}\n",
            "[\n]",
            "{\"s\": \"\\ud83d\\ude00 and \\\"quotes\\\" \\/ \\\\\"}",
            "  {\"deep\": {\"er\": [[{\"k\": \"v\"}]]}}  \n",
        ] {
            let (fast, yaml) = both(text);
            assert!(fast.is_some(), "{text}");
            assert_eq!(fast, yaml, "{text}");
        }
    }

    #[test]
    fn the_example_state_and_export_read_the_same_both_ways() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in [
            "examples/specs/terraform/terraform.tfstate",
            "examples/specs/pulumi/stack-export.json",
            "tests/fixtures/specs/terraform/modules.tfstate",
        ] {
            let text = std::fs::read_to_string(root.join(file)).expect("read");
            let (fast, yaml) = both(&text);
            assert!(fast.is_some(), "{file}");
            assert_eq!(fast, yaml, "{file}");
        }
    }

    #[test]
    fn anything_but_plain_json_is_left_to_the_yaml_reader() {
        for text in [
            "{\"a\": 1, \"a\": 2}",
            "{\"a\": 1,}",
            "{a: 1}",
            "keys: []",
            "{\"a\": 01}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": 1} x",
            "{\"a\": 1e999}",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
