//! A strict JSON reader into [`Node`]s, for the large machine-written inputs (Terraform state,
//! `terraform show -json`, Pulumi exports): about ten times faster than reading JSON as YAML,
//! with the same lines and columns.
//!
//! It returns `None` for anything that is not plain JSON (comments, YAML, a syntax error, a
//! duplicate key); the caller then reads the text with the YAML parser, whose messages name the
//! problem. So this reader never decides what an error says, only how fast valid JSON is read.

use std::collections::HashSet;

use super::node::{Key, Kind, Node, Pos};

/// Deepest nesting accepted (the YAML reader's limit is lower; deeper input falls back to it).
const MAX_DEPTH: usize = 128;

/// The document `text` holds, if it is one valid JSON value.
pub fn parse(text: &str) -> Option<Node> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        at: 0,
        line: 1,
        line_start: 0,
        counted: (0, 0),
        depth: 0,
    };
    reader.skip_ws();
    let node = reader.value()?;
    reader.skip_ws();
    (reader.at == reader.bytes.len()).then_some(node)
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

impl Reader<'_> {
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
            b'{' => self.map()?,
            b'[' => self.seq()?,
            b'"' => Kind::Str(self.string()?),
            b't' => self.literal("true").map(|()| Kind::Bool(true))?,
            b'f' => self.literal("false").map(|()| Kind::Bool(false))?,
            b'n' => self.literal("null").map(|()| Kind::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        };
        Some(Node { pos, kind })
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn map(&mut self) -> Option<Kind> {
        self.enter()?;
        self.at += 1;
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut seen: Option<HashSet<String>> = None;
        self.skip_ws();
        if self.eat(b'}').is_none() {
            loop {
                self.skip_ws();
                let pos = self.pos();
                if self.peek()? != b'"' {
                    return None;
                }
                let name = self.string()?;
                // Duplicate keys are an error the YAML reader explains.
                let duplicate = match &mut seen {
                    Some(set) => !set.insert(name.clone()),
                    None if entries.len() >= 16 => {
                        let mut set: HashSet<String> =
                            entries.iter().map(|(k, _)| k.name.clone()).collect();
                        let dup = !set.insert(name.clone());
                        seen = Some(set);
                        dup
                    }
                    None => entries.iter().any(|(k, _)| k.name == name),
                };
                if duplicate {
                    return None;
                }
                self.skip_ws();
                self.eat(b':')?;
                self.skip_ws();
                let value = self.value()?;
                entries.push((Key { name, pos }, value));
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
        Some(Kind::Map(entries))
    }

    fn seq(&mut self) -> Option<Kind> {
        self.enter()?;
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']').is_none() {
            loop {
                self.skip_ws();
                items.push(self.value()?);
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
        Some(Kind::Seq(items))
    }

    fn string(&mut self) -> Option<String> {
        self.at += 1; // the opening quote
        let start = self.at;
        // Fast path: no escapes.
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'"' => {
                    let s = self.text.get(start..self.at)?.to_string();
                    self.at += 1;
                    return Some(s);
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
                    return Some(out);
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
