//! Parsers under fuzz (issue 9, item 3).
//!
//! Every file kms-audit reads — declared specs (kms-audit YAML/JSON, Terraform state, Pulumi
//! export), the config file, the suppressions file, the accounts file, saved JSON reports and
//! baselines — and key-policy parsing, analysis, canonicalization and diff run here against
//! structurally mutated copies of the project's own examples and fixtures (lines deleted,
//! duplicated, swapped, re-indented, truncated; values replaced by other types, huge numbers,
//! odd strings, deep nesting, anchors and aliases; unknown keys; invalid UTF-8 where a file is
//! read) and against generated documents.
//!
//! Properties:
//! - nothing panics: each case runs under `catch_unwind`;
//! - every error is a clear message: non-empty, one line (specs: one line per problem), naming
//!   the file, and any line number it gives is a line of the file;
//! - valid inputs still parse, and what parses survives a round trip (a report rendered and
//!   read back, `spec import` output loaded again, a policy and its canonical form);
//! - alias bombs and deep nesting are refused quickly.
//!
//! The generator is a SplitMix64 with a fixed seed, so a CI run is the same every time. A failing
//! case reports the seed, its index and the input (also written to `target/fuzz-failures/`).
//! Longer runs (the count is per target):
//!
//! ```sh
//! KMS_AUDIT_FUZZ_ITERATIONS=20000 cargo test --release --test e2e fuzz_parsers::
//! KMS_AUDIT_FUZZ_SEED=12345 KMS_AUDIT_FUZZ_ITERATIONS=5000 cargo test --test e2e fuzz_parsers::
//! ```

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kms_audit::analysis::baseline::Baseline;
use kms_audit::analysis::suppress::Suppressions;
use kms_audit::analysis::{self, AnalysisInputs};
use kms_audit::inputs::config;
use kms_audit::inputs::spec::{self, DeclaredKey};
use kms_audit::model::saved_report::parse_report;
use kms_audit::model::{KeyRecord, Report, Rotation, Target, TargetStatus};
use kms_audit::policy::policy_diff;
use kms_audit::policy::{AnalysisContext, KeyPolicy, analyze as analyze_policy, canonicalize};
use kms_audit::report::{self, Format, RenderOptions};
use kms_audit::scan::targets::accounts_file;
use serde_json::{Map, Value, json};

// --- the harness ------------------------------------------------------------------------------

/// SplitMix64: tiny, fast, and good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn base_seed() -> u64 {
    std::env::var("KMS_AUDIT_FUZZ_SEED")
        .ok()
        .and_then(|s| {
            let s = s.trim();
            match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            }
        })
        .unwrap_or(0x6b6d_732d_6175_6469)
}

/// The number of cases per target: `KMS_AUDIT_FUZZ_ITERATIONS`, else the CI-sized default.
fn iterations(default: usize) -> usize {
    std::env::var("KMS_AUDIT_FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// The input of one case. It is written to `target/fuzz-failures/TARGET.last` before it is
/// parsed, so that a crash `catch_unwind` cannot catch (a stack overflow aborts) leaves it behind.
struct Input {
    last: PathBuf,
    bytes: Vec<u8>,
}

impl Input {
    fn set(&mut self, bytes: &[u8]) {
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        let _ = std::fs::write(&self.last, bytes);
    }
}

fn failures_dir() -> PathBuf {
    let dir = root().join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Runs `case` for each iteration under `catch_unwind`. A case records its input first
/// ([`Input::set`]), then parses it; it returns `Err` when a property does not hold.
fn run(
    target: &str,
    default_iterations: usize,
    mut case: impl FnMut(&mut Rng, &mut Input) -> Result<(), String>,
) {
    let seed = base_seed();
    let target_seed = target
        .bytes()
        .fold(seed, |h, b| mix(h ^ u64::from(b)).wrapping_add(1));
    let count = iterations(default_iterations);
    let started = Instant::now();
    let mut failures = Vec::new();
    let last = failures_dir().join(format!("{target}.last"));
    for i in 0..count {
        let mut rng = Rng::new(mix(target_seed ^ mix(i as u64 + 1)));
        let mut input = Input {
            last: last.clone(),
            bytes: Vec::new(),
        };
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| case(&mut rng, &mut input)));
        let problem = match outcome {
            Ok(Ok(())) => continue,
            Ok(Err(problem)) => problem,
            Err(payload) => format!("panicked: {}", panic_text(payload.as_ref())),
        };
        let saved = failures_dir().join(format!("{target}-{i}.in"));
        let saved = match std::fs::write(&saved, &input.bytes) {
            Ok(()) => saved.display().to_string(),
            Err(err) => format!("(not saved: {err})"),
        };
        failures.push(format!(
            "{target} case {i} of seed {seed:#x}: {problem}\n  input ({} bytes, saved to {saved}):\n{}",
            input.bytes.len(),
            preview(&input.bytes)
        ));
        if failures.len() >= 5 {
            break;
        }
    }
    let _ = std::fs::remove_file(&last);
    eprintln!(
        "fuzz {target}: {count} cases in {:.2?} (seed {seed:#x})",
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_string())
}

fn preview(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let mut out: String = text.chars().take(3000).collect();
    if text.chars().count() > 3000 {
        out.push_str("\n  …(truncated)");
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|err| panic!("cannot read {relative}: {err}"))
}

// --- error messages ---------------------------------------------------------------------------

/// What a clear error looks like for one format.
struct Shape<'a> {
    /// The file name the message must contain.
    file: &'a str,
    /// Lines the input has (a line number in the message must be one of them).
    input_lines: usize,
    /// Lines the message may have.
    max_lines: usize,
    /// Whether each message line must give a line number of the file: `None` no, `Some(x)` yes,
    /// except for lines that contain one of `x` (problems of the whole file).
    needs_line: Option<&'a [&'a str]>,
}

/// Lines in a text as YAML numbers them (`\n`, `\r\n` and a lone `\r` end a line; the text
/// after the last break is a line too).
fn line_count(text: &[u8]) -> usize {
    let breaks = text
        .iter()
        .enumerate()
        .filter(|&(i, b)| *b == b'\n' || (*b == b'\r' && text.get(i + 1) != Some(&b'\n')))
        .count();
    breaks + 1
}

fn check_message(message: &str, shape: &Shape<'_>) -> Result<(), String> {
    if std::env::var_os("KMS_AUDIT_FUZZ_VERBOSE").is_some() {
        eprintln!("error: {message}");
    }
    let bad = |why: &str| Err(format!("{why}: {message:?}"));
    if message.trim().is_empty() {
        return bad("empty error message");
    }
    let lines: Vec<&str> = message.lines().collect();
    if lines.len() > shape.max_lines {
        return bad(&format!(
            "error message of {} lines (at most {})",
            lines.len(),
            shape.max_lines
        ));
    }
    if lines.iter().any(|l| l.trim().is_empty()) {
        return bad("error message with an empty line");
    }
    if !message.contains(shape.file) {
        return bad(&format!(
            "error message does not name the file {}",
            shape.file
        ));
    }
    if message.contains("panicked") || message.contains("RUST_BACKTRACE") {
        return bad("error message reports a panic");
    }
    // Internal type names leak from serde when a message is not rewritten.
    for internal in [
        "Spanned",
        "RawConfig",
        "RawEntry",
        "RawOverride",
        "RawFile",
        "AccountEntry",
    ] {
        if message.contains(internal) {
            return bad(&format!("error message names the internal type {internal}"));
        }
    }
    if let Some(whole_file) = shape.needs_line {
        for line in &lines {
            if line_numbers(line, shape.file).is_empty()
                && !whole_file.iter().any(|w| line.contains(w))
            {
                return bad("error message without a line number");
            }
        }
    }
    for line in line_numbers(message, shape.file) {
        if line == 0 || line > shape.input_lines as u64 {
            return bad(&format!(
                "error message points at line {line} of a {}-line file",
                shape.input_lines
            ));
        }
    }
    Ok(())
}

/// The line numbers a message gives: `line N`, `FILE:N`.
fn line_numbers(message: &str, file: &str) -> Vec<u64> {
    let number = |rest: &str| -> Option<u64> {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let mut out = Vec::new();
    for (at, _) in message.match_indices("line ") {
        out.extend(number(&message[at + "line ".len()..]));
    }
    let prefix = format!("{file}:");
    for (at, _) in message.match_indices(&prefix) {
        out.extend(number(&message[at + prefix.len()..]));
    }
    out
}

// --- mutation of text ---------------------------------------------------------------------------

/// Scalars that stress YAML typing, integer and date parsing, escapes and lengths.
const SCALARS: &[&str] = &[
    "",
    "~",
    "null",
    "true",
    "False",
    "yes",
    "on",
    "0",
    "-1",
    "007",
    "0o17",
    "0x1F",
    "1e400",
    "-1e400",
    ".nan",
    ".inf",
    "1.5",
    "4294967296",
    "2147483648",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "-170141183460469231731687303715884105729",
    "99999999999999999999999999999999999999999999999999",
    "111111111111",
    "011111111111",
    "\"222222222222\"",
    "'quoted'",
    "\"tab\\there\"",
    "\"nul\\0\"",
    "\"\\uD800\"",
    "\"\\U0010FFFF\"",
    "\"line\\nbreak\"",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: 1, b: [x]}",
    "!!binary aGVsbG8=",
    "!!str 1",
    "!!int x",
    "!custom x",
    "&anchor value",
    "*anchor",
    "*undefined",
    "|\n  block text",
    ">-",
    "2027-01-31",
    "2027-02-30",
    "9999-12-31",
    "0000-00-00",
    "+10000-01-01",
    "2026-03-01T00:00:00Z",
    "alias/x",
    "alias/aws/ebs",
    "alias/",
    "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:us-east-1:111111111111:alias/x",
    "arn:aws:kms:::",
    "arn:",
    "arn:aws:iam::222222222222:role/X",
    "o-abc123def4",
    "o-",
    "us-east-1",
    "eu-west-1",
    "xx-nowhere-9",
    "ROT001",
    "rotation-disabled",
    "SUP001",
    "critical",
    "SYMMETRIC_DEFAULT",
    "HMAC_384",
    "ENCRYPT_DECRYPT",
    "ключ",
    "鍵🔑",
    "e\u{301}\u{301}\u{301}",
    "\u{202e}rtl",
    "a: b",
    "- x",
    "# comment",
    "\"unterminated",
    "'unterminated",
    "{unclosed: [",
    "? complex",
    "<<: *anchor",
    "%YAML 1.2",
    "---",
    "...",
];

/// Keys nobody expects (and a few that are close to real ones).
const UNKNOWN_KEYS: &[&str] = &[
    "unknown_field",
    "Keys",
    "key ",
    "\"quoted key\"",
    "1",
    "~",
    "null",
    "<<",
    "? [a, b]",
    "aws:tag",
    "Statement",
    "schema_version",
    "resources",
    "deployment",
    "keys",
    "defaults",
    "suppressions",
    "accounts",
    "checks",
];

fn char_boundary(text: &str, rng: &mut Rng) -> usize {
    if text.is_empty() {
        return 0;
    }
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// One to four structural mutations of a text document.
fn mutate_text(rng: &mut Rng, text: &str, donors: &[&str]) -> String {
    let mut out = text.to_string();
    for _ in 0..1 + rng.below(4) {
        out = mutate_text_once(rng, &out, donors);
    }
    out
}

/// A mutation of one of `sources`.
fn mutate_text_from<S: AsRef<str>>(rng: &mut Rng, sources: &[S], donors: &[&str]) -> String {
    let source = &sources[rng.below(sources.len())];
    mutate_text(rng, source.as_ref(), donors)
}

fn mutate_text_once(rng: &mut Rng, text: &str, donors: &[&str]) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let n = lines.len();
    let i = rng.below(n);
    match rng.below(20) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let line = lines[i].clone();
            lines.insert(i, line);
        }
        2 => {
            let j = rng.below(n);
            lines.swap(i, j);
        }
        3 => {
            let line = lines.remove(i);
            let j = rng.below(lines.len() + 1);
            lines.insert(j, line);
        }
        4 => {
            let at = char_boundary(text, rng);
            return text[..at].to_string();
        }
        5 => {
            let line = &mut lines[i];
            match rng.below(4) {
                0 => line.insert_str(0, &" ".repeat(1 + rng.below(4))),
                1 => {
                    let trimmed = line.trim_start().to_string();
                    let indent = indent_of(line).len().saturating_sub(1 + rng.below(4));
                    *line = format!("{}{trimmed}", " ".repeat(indent));
                }
                2 => line.insert(0, '\t'),
                _ => *line = line.trim_start().to_string(),
            }
        }
        6 => {
            // Replace the value after `key:` or `- ` with another scalar.
            let line = &lines[i];
            let scalar = rng.pick(SCALARS);
            lines[i] = match line.find(": ").or_else(|| line.find("- ")) {
                Some(at) => format!("{}{scalar}", &line[..at + 2]),
                None => format!("{line} {scalar}"),
            };
        }
        7 => {
            let indent = indent_of(&lines[i]).replace('-', " ");
            let key = rng.pick(UNKNOWN_KEYS);
            let value = rng.pick(SCALARS);
            lines.insert(i, format!("{indent}{key}: {value}"));
        }
        8 => {
            let at = char_boundary(text, rng);
            let token = rng.pick(&[
                ":", ": ", "- ", "{", "}", "[", "]", ",", "\"", "'", "#", "&a ", "*a", "!", "|",
                ">", "?", "%", "@", "`", "\t", "\r", "\0", "\u{feff}", "\\", "\\u", "\\x",
            ]);
            let mut out = text.to_string();
            out.insert_str(at, token);
            return out;
        }
        9 => {
            let at = char_boundary(text, rng);
            let mut out = text.to_string();
            if let Some(c) = out[at..].chars().next() {
                let replacement = rng.pick(&['x', '0', ' ', '"', ':', '\u{e9}', '\u{1f511}']);
                out.replace_range(at..at + c.len_utf8(), &replacement.to_string());
            }
            return out;
        }
        10 => {
            // Splice lines from another document.
            let donor = rng.pick(donors);
            let donor_lines: Vec<&str> = donor.split('\n').collect();
            let from = rng.below(donor_lines.len());
            let to = (from + 1 + rng.below(8)).min(donor_lines.len());
            for (k, line) in donor_lines[from..to].iter().enumerate() {
                lines.insert((i + k).min(lines.len()), line.to_string());
            }
        }
        11 => {
            // Deep nesting, flow or block.
            let depth = 1 + rng.below(400);
            let line = &lines[i];
            let prefix = match line.find(": ") {
                Some(at) => line[..at + 2].to_string(),
                None => format!("{}nested: ", indent_of(line)),
            };
            lines[i] = match rng.below(3) {
                0 => format!("{prefix}{}{}", "[".repeat(depth), "]".repeat(depth)),
                1 => format!("{prefix}{}x{}", "{a: ".repeat(depth), "}".repeat(depth)),
                _ => {
                    let base = indent_of(line).len();
                    let mut block = prefix;
                    for d in 0..depth.min(150) {
                        block.push_str(&format!("\n{}k{d}:", " ".repeat(base + 2 * (d + 1))));
                    }
                    block.push_str(" x");
                    block
                }
            };
        }
        12 => {
            // Anchors and aliases.
            let j = rng.below(n);
            let anchor = format!("a{}", rng.below(3));
            if let Some(at) = lines[i].find(": ") {
                lines[i].insert_str(at + 2, &format!("&{anchor} "));
            }
            let indent = indent_of(&lines[j]).replace('-', " ");
            let key = rng.pick(&["<<", "alias_here", "tags", "policy", "keys"]);
            lines.insert(j, format!("{indent}{key}: *{anchor}"));
        }
        13 => {
            // Benign variations: CRLF, a BOM, trailing spaces, comments.
            return match rng.below(4) {
                0 => text.replace('\n', "\r\n"),
                1 => format!("\u{feff}{text}"),
                2 => text.replace('\n', "  \n"),
                _ => format!("# fuzz\n{text}\n# end\n"),
            };
        }
        14 => {
            // A duplicate key with another value.
            if let Some(at) = lines[i].find(": ") {
                let line = format!("{}{}", &lines[i][..at + 2], rng.pick(SCALARS));
                lines.insert(i + 1, line.replacen("- ", "  ", 1));
            }
        }
        15 => {
            let long = "x".repeat(1 + rng.below(100_000));
            lines[i] = match lines[i].find(": ") {
                Some(at) => format!("{}{long}", &lines[i][..at + 2]),
                None => long,
            };
        }
        16 => {
            // Flip a value's shape: into a list, a mapping, quotes.
            if let Some(at) = lines[i].find(": ") {
                let (key, value) = lines[i].split_at(at + 2);
                let value = value.to_string();
                lines[i] = match rng.below(3) {
                    0 => format!("{key}[{value}]"),
                    1 => format!("{key}{{v: {value}}}"),
                    _ => format!("{key}\"{}\"", value.replace('"', "")),
                };
            }
        }
        17 => {
            let a = char_boundary(text, rng);
            let b = char_boundary(&text[a..], rng) + a;
            let mut out = text.to_string();
            out.replace_range(a..b, "");
            return out;
        }
        18 => {
            let at = char_boundary(text, rng);
            let c = char::from_u32(rng.below(0x20) as u32).unwrap_or('\0');
            let mut out = text.to_string();
            out.insert(at, c);
            return out;
        }
        _ => {
            // Another document in the stream, or an empty one.
            return match rng.below(3) {
                0 => format!("{text}\n---\n{text}"),
                1 => String::new(),
                _ => format!("---\n{text}\n..."),
            };
        }
    }
    lines.join("\n")
}

/// Bytes that are not UTF-8, for the loaders that read files.
fn break_utf8(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    let at = rng.below(bytes.len() + 1);
    let bad: &[u8] = rng.pick(&[
        &[0xff][..],
        &[0xc0, 0x80],
        &[0x80],
        &[0xed, 0xa0, 0x80],
        &[0xe2, 0x82],
    ]);
    bytes.splice(at..at, bad.iter().copied());
    bytes
}

// --- mutation of JSON values --------------------------------------------------------------------

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "90",
    "2560",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1.5",
    "1e308",
    "-1e-308",
    "5e-324",
];

/// Strings of the KMS and IAM domain, so generated documents often mean something.
const WORDS: &[&str] = &[
    "*",
    "",
    " ",
    "Allow",
    "Deny",
    "allow",
    "Maybe",
    "2012-10-17",
    "2008-10-17",
    "kms:*",
    "kms:Decrypt",
    "kms:decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:Create*",
    "kms:?ncrypt",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "*:*",
    "iam:PassRole",
    "arn:aws:iam::111111111111:root",
    "arn:aws:iam::222222222222:root",
    "arn:aws:iam::333333333333:role/app",
    "arn:aws:iam::444444444444:user/bob",
    "arn:aws:iam::*:root",
    "arn:aws:iam::222222222222:*",
    "arn:aws-cn:iam::111111111111:root",
    "arn:aws:sts::222222222222:assumed-role/r/s",
    "arn:aws:iam::aws:policy/x",
    "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:*:111111111111:key/*",
    "arn:",
    "arn:aws:iam:::root",
    "111111111111",
    "222222222222",
    "1111111111111",
    "AIDAJQABLZS4A3QDU576Q",
    "AROA1234567890EXAMPLE",
    "o-abc123def4",
    "o-abcdef1234",
    "ou-ab12-cdef3456",
    "cloudtrail.amazonaws.com",
    "logs.us-east-1.amazonaws.com",
    "dynamodb.us-east-1.amazonaws.com",
    "cognito-identity.amazonaws.com",
    "kms:CallerAccount",
    "kms:ViaService",
    "kms:GrantIsForAWSResource",
    "kms:EncryptionContext:tenant",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SecureTransport",
    "aws:userid",
    "aws:PrincipalIsAWSService",
    "${aws:username}",
    "o-*",
    "222222222222*",
    "true",
    "false",
    "null",
    "ключ",
    "\u{0}",
    "\"",
    "\\",
    "line\nbreak",
    "\u{202e}",
    "😀",
];

const POLICY_KEYS: &[&str] = &[
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "AWS",
    "Service",
    "Federated",
    "CanonicalUser",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "StringEquals",
    "StringLike",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "ArnLike",
    "ArnEquals",
    "ArnNotLike",
    "Bool",
    "BoolIfExists",
    "Null",
    "NumericLessThan",
    "DateGreaterThan",
    "IpAddress",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "ForAnyValue:StringLikeIfExists",
    "StringEqualsIfExists",
    "Unknown:Operator",
    "kms:CallerAccount",
    "kms:ViaService",
    "aws:PrincipalOrgID",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:SourceAccount",
    "aws:PrincipalIsAWSService",
    "aws:principalorgid",
    "",
];

fn random_number(rng: &mut Rng) -> Value {
    serde_json::from_str(rng.pick(NUMBERS)).unwrap_or(Value::Null)
}

fn random_string(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => Value::String("x".repeat(rng.below(5000))),
        1 => Value::String(rng.pick(SCALARS).to_string()),
        _ => Value::String(rng.pick(WORDS).to_string()),
    }
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.one_in(2)),
        2 => random_number(rng),
        3 | 4 => random_string(rng),
        5 | 6 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.below(4))
                .map(|_| {
                    let key = rng.pick(POLICY_KEYS).to_string();
                    (key, random_value(rng, depth - 1))
                })
                .collect(),
        ),
    }
}

fn child_count(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

/// A node of the tree, reached by walking down random children.
fn pick_node<'a>(rng: &mut Rng, v: &'a mut Value) -> &'a mut Value {
    let n = child_count(v);
    if n == 0 || rng.one_in(4) {
        return v;
    }
    let i = rng.below(n);
    match v {
        Value::Object(m) => match m.values_mut().nth(i) {
            Some(child) => pick_node(rng, child),
            None => unreachable!("index within the object"),
        },
        Value::Array(a) => pick_node(rng, &mut a[i]),
        _ => unreachable!("a node with children"),
    }
}

/// A random node of a tree (any depth), for splicing.
fn any_node(rng: &mut Rng, v: &Value) -> Value {
    let mut v = v.clone();
    pick_node(rng, &mut v).clone()
}

/// One to four structural mutations of a JSON value.
fn mutate_value(rng: &mut Rng, root: &mut Value, donors: &[&Value]) {
    for _ in 0..1 + rng.below(4) {
        let source = donors[rng.below(donors.len())];
        let donor = any_node(rng, source);
        let node = pick_node(rng, root);
        mutate_node(rng, node, donor);
    }
}

fn mutate_node(rng: &mut Rng, node: &mut Value, donor: Value) {
    match rng.below(13) {
        0 => *node = random_value(rng, 3),
        1 => match node {
            Value::Object(m) if !m.is_empty() => {
                let i = rng.below(m.len());
                if let Some(key) = m.keys().nth(i).cloned() {
                    m.shift_remove(&key);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                a.remove(i);
            }
            _ => *node = Value::Null,
        },
        2 => match node {
            Value::Object(m) => {
                let key = rng.pick(UNKNOWN_KEYS).to_string();
                m.insert(key, random_value(rng, 2));
            }
            Value::Array(a) => {
                let item = match a.first() {
                    Some(first) if rng.one_in(2) => first.clone(),
                    _ => random_value(rng, 2),
                };
                let at = rng.below(a.len() + 1);
                a.insert(at, item);
            }
            _ => *node = random_value(rng, 1),
        },
        3 => {
            // Flip the type, keeping the content where possible.
            *node = match node.take() {
                Value::String(s) => {
                    serde_json::from_str(&s).unwrap_or(Value::Array(vec![Value::String(s)]))
                }
                Value::Number(n) => Value::String(n.to_string()),
                Value::Bool(b) => Value::String(b.to_string()),
                Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
                Value::Array(_) => Value::Object(Map::new()),
                Value::Object(m) => Value::Array(m.into_iter().map(|(_, v)| v).collect()),
                Value::Null => Value::String(String::new()),
            }
        }
        4 => *node = random_number(rng),
        5 => *node = random_string(rng),
        6 => {
            let depth = 1 + rng.below(300);
            let mut v = node.take();
            for _ in 0..depth {
                v = if rng.one_in(2) {
                    Value::Array(vec![v])
                } else {
                    json!({ "a": v })
                };
            }
            *node = v;
        }
        7 => *node = Value::Null,
        8 => match node {
            Value::Array(a) if a.len() > 1 => {
                let (i, j) = (rng.below(a.len()), rng.below(a.len()));
                a.swap(i, j);
            }
            Value::Object(m) if !m.is_empty() => {
                let i = rng.below(m.len());
                let key = m.keys().nth(i).cloned().unwrap_or_default();
                if let Some(value) = m.shift_remove(&key) {
                    let renamed = match rng.below(3) {
                        0 => key.to_ascii_lowercase(),
                        1 => format!("{key} "),
                        _ => key.to_ascii_uppercase(),
                    };
                    m.insert(renamed, value);
                }
            }
            _ => *node = Value::Array(vec![node.take()]),
        },
        9 | 10 => *node = donor,
        11 => *node = Value::String(node.to_string()),
        _ => match node {
            Value::Object(m) => {
                // A key of the same object under another's name (a wrong-typed known field).
                let keys: Vec<String> = m.keys().cloned().collect();
                if keys.len() > 1 {
                    let a = rng.pick(&keys).clone();
                    let b = rng.pick(&keys).clone();
                    if let Some(v) = m.get(&b).cloned() {
                        m.insert(a, v);
                    }
                }
            }
            other => *other = json!({}),
        },
    }
}

/// JSON text in one of the ways tools write it.
fn to_text(rng: &mut Rng, v: &Value) -> String {
    let text = if rng.one_in(3) {
        serde_json::to_string(v)
    } else {
        serde_json::to_string_pretty(v)
    };
    text.unwrap_or_default()
}

// --- the config file ----------------------------------------------------------------------------

fn config_corpus() -> Vec<String> {
    let mut corpus = vec![
        read("examples/kms-audit.yaml"),
        "trusted_accounts: ['222222222222']\norganization_id: o-abcdef1234\n".to_string(),
        "required_tags: [owner]\nchecks:\n  ROT001:\n    enabled: false\n    severity: high\n"
            .to_string(),
    ];
    // The configs the check fixtures embed.
    for entry in std::fs::read_dir(root().join("tests/fixtures/checks")).expect("fixtures") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("fixture");
        let value: Value = serde_json::from_str(&text).expect("fixture JSON");
        if let Some(config) = value.get("config").and_then(Value::as_str) {
            corpus.push(config.to_string());
        }
    }
    corpus
}

/// Variations that change nothing for a YAML reader: Windows line ends, a byte order mark,
/// trailing spaces, comments, blank lines, no final newline.
fn benign(rng: &mut Rng, text: &str) -> String {
    match rng.below(6) {
        0 => text.replace('\n', "\r\n"),
        1 => format!("\u{feff}{text}"),
        2 => text.replace('\n', "   \n"),
        3 => format!("# a comment\n\n{text}\n# another\n"),
        4 => text.trim_end().to_string(),
        _ => text.replace('\n', "\n\n"),
    }
}

/// Mutated copies of `corpus` through a one-line-error YAML loader (`parse` gives the error
/// text); benign variations of the originals must still load.
fn fuzz_yaml(
    target: &str,
    default_iterations: usize,
    file: &str,
    corpus: &[String],
    whole_file: &[&str],
    parse: impl Fn(&str) -> Result<(), String>,
) {
    for text in corpus {
        if let Err(err) = parse(text) {
            panic!("a valid {target} file is refused: {err}\n{text}");
        }
    }
    let donors: Vec<&str> = corpus.iter().map(String::as_str).collect();
    run(target, default_iterations, |rng, input| {
        if rng.one_in(10) {
            let text = {
                let source = rng.pick(corpus);
                benign(rng, &source)
            };
            input.set(text.as_bytes());
            return parse(&text).map_err(|err| format!("a valid file is refused: {err}"));
        }
        let text = mutate_text_from(rng, &donors, &donors);
        input.set(text.as_bytes());
        match parse(&text) {
            Ok(()) => Ok(()),
            Err(message) => check_message(
                &message,
                &Shape {
                    file,
                    input_lines: line_count(text.as_bytes()),
                    max_lines: 1,
                    needs_line: Some(whole_file),
                },
            ),
        }
    });
}

#[test]
fn config_files_under_fuzz() {
    fuzz_yaml(
        "config",
        2500,
        "kms-audit.yaml",
        &config_corpus(),
        &[],
        |text| {
            config::parse(text, "kms-audit.yaml", kms_audit::analysis::catalog())
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
}

// --- suppressions ---------------------------------------------------------------------------------

const SUPPRESSIONS: &str = "\
# accepted findings
suppressions:
  - check: ROT001
    key: alias/legacy-*
    account: \"111111111111\"
    reason: Imported key material, rotated by hand
    expires: 2027-01-31
  - check: no-alias
    region: us-*
    reason: Old keys, being retired
    expires: 2024-06-30
  - check: DRF002
    key: arn:aws:kms:us-east-1:111111111111:key/*
    reason: \"Managed by hand: see ticket 42\"
    expires: '2030-12-31'
";

#[test]
fn suppressions_files_under_fuzz() {
    let findings = parse_report("scan.json", &read("tests/fixtures/reports/scan.json"))
        .expect("report fixture")
        .findings;
    let today = time::macros::date!(2026 - 03 - 01);
    let corpus = [
        read("tests/fixtures/reports/suppressions.yaml"),
        SUPPRESSIONS.to_string(),
    ];
    fuzz_yaml(
        "suppressions",
        2500,
        "suppressions.yaml",
        &corpus,
        &[],
        |text| {
            // What loads is applied to a scan's findings (its patterns matched against them).
            let suppressions =
                Suppressions::parse("suppressions.yaml", text).map_err(|e| e.to_string())?;
            let mut findings = findings.clone();
            kms_audit::analysis::suppress::apply(&mut findings, &suppressions, today);
            Ok(())
        },
    );
}

// --- the accounts file ----------------------------------------------------------------------------

#[test]
fn accounts_files_under_fuzz() {
    let corpus = [
        read("examples/accounts.yaml"),
        "accounts:\n  - id: \"444444444444\"\n  - {id: \"555555555555\", name: dev, external_id: x}\n"
            .to_string(),
    ];
    let whole_file = ["the file lists no accounts"];
    fuzz_yaml(
        "accounts",
        2500,
        "accounts.yaml",
        &corpus,
        &whole_file,
        |text| {
            accounts_file::parse(Path::new("accounts.yaml"), text)
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
}

/// A loader of one kind of file: its error message, if any.
type Loader = fn(&Path) -> Option<String>;

/// Every loader of a file named on the command line.
fn loaders() -> [(&'static str, Loader); 5] {
    [
        ("config", |p| {
            config::load(p, kms_audit::analysis::catalog())
                .err()
                .map(|e| e.to_string())
        }),
        ("suppressions", |p| {
            Suppressions::load(p).err().map(|e| e.to_string())
        }),
        ("accounts", |p| {
            accounts_file::load(p).err().map(|e| e.to_string())
        }),
        ("spec", |p| {
            spec::load(&[p.to_path_buf()]).err().map(|e| e.to_string())
        }),
        ("report", |p| Baseline::load(p).err().map(|e| e.to_string())),
    ]
}

// --- files that are not UTF-8, not files at all, or missing --------------------------------------

#[test]
fn unreadable_files_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = [
        read("examples/kms-audit.yaml"),
        SUPPRESSIONS.to_string(),
        read("examples/accounts.yaml"),
        read("examples/specs/kms-audit/keys.yaml"),
        read("tests/fixtures/reports/scan.json"),
    ];
    let loaders = loaders();
    run("unreadable", 200, |rng, input| {
        let which = rng.below(loaders.len());
        let (name, load) = loaders[which];
        let path = dir.path().join(format!("{name}-input.yaml"));
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_file(&path);
        match rng.below(4) {
            0 => {} // missing
            1 => std::fs::create_dir_all(&path).expect("mkdir"),
            _ => {
                let bytes = break_utf8(rng, &sources[which]);
                input.set(&bytes);
                std::fs::write(&path, &bytes).expect("write");
            }
        }
        let file = path.display().to_string();
        match load(&path) {
            // A directory is a valid (empty) spec source.
            None if name == "spec" => Ok(()),
            None => Err(format!("{name}: an unreadable file was accepted")),
            Some(message) => check_message(
                &message,
                &Shape {
                    file: &file,
                    input_lines: line_count(&input.bytes),
                    max_lines: 1,
                    needs_line: None,
                },
            ),
        }
    });
}

// --- declared specs -------------------------------------------------------------------------------

/// The attributes drift compares, for round-trip comparisons.
fn compared(key: &DeclaredKey) -> Value {
    json!({
        "account": key.account, "region": key.region, "alias": key.alias,
        "key_arn": key.key_arn, "description": key.description, "key_spec": key.key_spec,
        "key_usage": key.key_usage, "enabled": key.enabled,
        "enable_key_rotation": key.enable_key_rotation,
        "rotation_period_in_days": key.rotation_period_in_days,
        "multi_region": key.multi_region, "replica_regions": key.replica_regions,
        "deletion_window_in_days": key.deletion_window_in_days, "tags": key.tags,
        "policy": key.policy,
    })
}

fn check_spec_errors(message: &str, file: &str, input_lines: usize) -> Result<(), String> {
    // One line per problem, each naming the file (a policy_file problem names its own file too).
    let lines = message.lines().count();
    check_message(
        message,
        &Shape {
            file,
            input_lines,
            max_lines: lines.max(1),
            needs_line: Some(&[
                "errors in specs:",
                "this is a key policy document",
                "cannot read",
            ]),
        },
    )?;
    for line in message.lines().skip(1) {
        if !line.starts_with("  ") || !line.contains(file) {
            return Err(format!(
                "a spec error line does not name the file: {message:?}"
            ));
        }
    }
    if lines > 1
        && !message
            .lines()
            .next()
            .is_some_and(|l| l.ends_with("errors in specs:"))
    {
        return Err(format!(
            "a multi-line spec error without its count: {message:?}"
        ));
    }
    Ok(())
}

/// A scan in which every key of `sets` exists as declared, so that drift over a mutated spec
/// compares attribute by attribute.
fn live_report(template: &Report, sets: &[spec::SpecSet]) -> Report {
    let mut report = template.clone();
    report.inventory.keys.clear();
    report.targets.clear();
    report.findings.clear();
    report.coverage_gaps.clear();
    for (i, key) in sets.iter().flat_map(|s| &s.keys).enumerate() {
        let key_id = key
            .key_arn
            .as_deref()
            .and_then(|arn| arn.rsplit('/').next())
            .map_or_else(
                || format!("00000000-0000-4000-8000-{i:012}"),
                str::to_string,
            );
        let arn = key
            .key_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:kms:{}:{}:key/{key_id}", key.region, key.account));
        report.inventory.keys.push(KeyRecord {
            arn,
            key_id,
            account: key.account.as_str().into(),
            region: key.region.as_str().into(),
            aliases: key.alias.iter().cloned().collect(),
            key_state: Some("Enabled".into()),
            key_manager: Some("CUSTOMER".into()),
            key_spec: key.key_spec.as_deref().map(Into::into),
            key_usage: key.key_usage.as_deref().map(Into::into),
            origin: Some("AWS_KMS".into()),
            description: key.description.clone(),
            rotation: Some(Rotation {
                enabled: key.enable_key_rotation.unwrap_or(false),
                period_days: key.rotation_period_in_days,
                next_rotation_date: None,
            }),
            policy: key.policy.clone().map(Into::into),
            tags: key.tags.clone().unwrap_or_default().into(),
            grants: Some(Vec::new()),
            ..KeyRecord::default()
        });
        if !report
            .targets
            .iter()
            .any(|t| t.account == key.account && t.region == key.region)
        {
            report.targets.push(Target {
                account: key.account.clone(),
                region: key.region.clone(),
                status: TargetStatus::Scanned,
                reason: None,
            });
        }
    }
    report
}

/// Drift of the live keys from a (mutated) spec: every finding message is one line.
fn check_drift(live: &Report, set: &spec::SpecSet, unmanaged: bool) -> Result<(), String> {
    for finding in kms_audit::analysis::drift::detect(live, set, unmanaged) {
        if finding.message.trim().is_empty() || finding.message.lines().count() != 1 {
            return Err(format!(
                "a drift finding's message is not one line: {:?}",
                finding.message
            ));
        }
    }
    Ok(())
}

/// What `kms-audit spec import` prints for the keys loads again as the same keys.
fn check_spec_round_trip(set: &spec::SpecSet, dir: &Path) -> Result<(), String> {
    let text = spec::emit::to_yaml(&set.keys, &["fuzz".to_string()]);
    let path = dir.join("round-trip.yaml");
    std::fs::write(&path, &text).map_err(|e| e.to_string())?;
    let again = spec::load(&[path])
        .map_err(|err| format!("spec import output does not load again: {err}\n{text}"))?;
    let before: Vec<Value> = set.keys.iter().map(compared).collect();
    let after: Vec<Value> = again.keys.iter().map(compared).collect();
    let sort = |mut v: Vec<Value>| {
        v.sort_by_key(Value::to_string);
        v
    };
    if sort(before) != sort(after) {
        return Err(format!("spec import output loads as other keys:\n{text}"));
    }
    Ok(())
}

#[test]
fn spec_files_under_fuzz() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    for name in ["default.json", "orders.json"] {
        std::fs::copy(
            root().join("examples/specs/kms-audit/policies").join(name),
            policies.join(name),
        )
        .expect("copy policy");
    }
    let yaml = [
        read("examples/specs/kms-audit/keys.yaml"),
        "defaults: {account: \"111111111111\", region: us-east-1}\nkeys:\n  - alias: alias/a\n    \
         policy: '{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \
         \"kms:*\"}]}'\n  - key_arn: arn:aws:kms:eu-west-1:111111111111:key/k1\n    tags: {n: 1}\n"
            .to_string(),
    ];
    let json_sources = [
        read("examples/specs/terraform/terraform.tfstate"),
        read("examples/specs/pulumi/stack-export.json"),
        read("tests/fixtures/specs/terraform/modules.tfstate"),
        read("tests/fixtures/specs/pulumi/stack.json"),
        read("tests/fixtures/specs/forms/show-state.json"),
        read("tests/fixtures/specs/forms/show-plan.json"),
        read("tests/fixtures/specs/forms/pulumi-secrets.json"),
    ];
    let json_values: Vec<Value> = json_sources
        .iter()
        .map(|t| serde_json::from_str(t).expect("JSON spec"))
        .collect();
    let json_donors: Vec<&Value> = json_values.iter().collect();
    let donors: Vec<&str> = yaml
        .iter()
        .chain(&json_sources)
        .map(String::as_str)
        .collect();

    // The originals load, survive `spec import`, and match the live keys made from them.
    let mut originals = Vec::new();
    for (i, text) in yaml.iter().chain(&json_sources).enumerate() {
        let path = dir.path().join(format!("original-{i}.yaml"));
        std::fs::write(&path, text).expect("write");
        let set =
            spec::load(&[path]).unwrap_or_else(|err| panic!("a valid spec is refused: {err}"));
        check_spec_round_trip(&set, dir.path()).unwrap_or_else(|err| panic!("{err}"));
        originals.push(set);
    }
    let template = parse_report("scan.json", &read("tests/fixtures/reports/scan.json"))
        .expect("report fixture");
    let live = live_report(&template, &originals);

    let path = dir.path().join("spec.yaml");
    let file = path.display().to_string();
    run("spec", 1000, |rng, input| {
        if rng.one_in(10) {
            // Valid files written another way still load.
            let text = if rng.one_in(2) {
                {
                    let source = rng.pick(&yaml);
                    benign(rng, &source)
                }
            } else {
                {
                    let source = rng.pick(&json_values);
                    to_text(rng, &source)
                }
            };
            input.set(text.as_bytes());
            std::fs::write(&path, &text).map_err(|e| e.to_string())?;
            return spec::load(std::slice::from_ref(&path))
                .map(drop)
                .map_err(|err| format!("a valid spec is refused: {err}"));
        }
        let bytes = match rng.below(10) {
            // A YAML spec, mutated as text.
            0..=3 => mutate_text_from(rng, &donors[..yaml.len()], &donors).into_bytes(),
            // A Terraform state or Pulumi export, mutated as a tree...
            4..=7 => {
                let mut value = rng.pick(&json_values);
                mutate_value(rng, &mut value, &json_donors);
                let text = to_text(rng, &value);
                if rng.one_in(4) {
                    mutate_text(rng, &text, &donors).into_bytes()
                } else {
                    text.into_bytes()
                }
            }
            // ...or as text.
            8 => mutate_text_from(rng, &json_sources, &donors).into_bytes(),
            _ => {
                // A broken policy file next to an intact spec.
                let policy = read("examples/specs/kms-audit/policies/orders.json");
                let broken = mutate_text(rng, &policy, &donors);
                std::fs::write(policies.join("orders.json"), &broken).expect("write policy");
                yaml[0].clone().into_bytes()
            }
        };
        input.set(&bytes);
        std::fs::write(&path, &bytes).map_err(|e| e.to_string())?;
        let result = spec::load(std::slice::from_ref(&path));
        std::fs::copy(
            root().join("examples/specs/kms-audit/policies/orders.json"),
            policies.join("orders.json"),
        )
        .map_err(|e| e.to_string())?;
        match result {
            Ok(set) => {
                check_spec_round_trip(&set, dir.path())?;
                check_drift(&live, &set, rng.one_in(2))
            }
            Err(err) => check_spec_errors(&err.to_string(), &file, line_count(&bytes)),
        }
    });
}

/// The strict JSON reader that machine-written specs take (state, `show -json`, exports) gives
/// exactly the YAML reader's nodes and positions whenever it accepts a document, and leaves
/// everything else to it; neither panics.
#[test]
fn the_fast_json_reader_agrees_with_the_yaml_reader() {
    let sources = [
        read("tests/fixtures/specs/forms/show-state.json"),
        read("tests/fixtures/specs/forms/show-plan.json"),
        read("tests/fixtures/specs/forms/pulumi-secrets.json"),
        read("examples/specs/terraform/terraform.tfstate"),
        read("tests/fixtures/specs/pulumi/stack.json"),
    ];
    let values: Vec<Value> = sources
        .iter()
        .map(|t| serde_json::from_str(t).expect("JSON"))
        .collect();
    let donors: Vec<&Value> = values.iter().collect();
    let text_donors: Vec<&str> = sources.iter().map(String::as_str).collect();
    run("json-reader", 600, |rng, input| {
        let text = match rng.below(3) {
            0 => {
                let mut value = rng.pick(&values);
                mutate_value(rng, &mut value, &donors);
                to_text(rng, &value)
            }
            1 => mutate_text_from(rng, &sources, &text_donors),
            _ => {
                let mut value = random_value(rng, 0);
                if rng.one_in(2) {
                    value = json!({"format_version": "1.0", "values": {"root_module": value}});
                }
                to_text(rng, &value)
            }
        };
        input.set(text.as_bytes());
        let fast = spec::json::parse(&text);
        let yaml = spec::node::parse_yaml(&text, "t.json");
        if let Some(fast) = fast {
            match yaml {
                Ok(yaml) if yaml == fast => {}
                Ok(yaml) => {
                    return Err(format!(
                        "the readers disagree:\n  json: {:?}\n  yaml: {:?}",
                        fast.to_json(),
                        yaml.to_json()
                    ));
                }
                Err(err) => {
                    // Strictly valid JSON the YAML reader refuses (its limits) is still read.
                    if serde_json::from_str::<Value>(&text).is_err() {
                        return Err(format!(
                            "accepted invalid JSON the YAML reader refuses: {err}"
                        ));
                    }
                }
            }
        } else if serde_json::from_str::<Value>(&text).is_ok()
            && max_depth(&text) < 100
            && !text.contains("\\u")
            && !has_duplicate_keys(&text)
            && yaml.is_ok()
            && !text.contains("e+")
            && !text.contains("e-")
        {
            // Plain valid JSON (no escapes to check, no deep nesting, no exponents) is the fast
            // reader's to read.
            if !text.bytes().any(|b| b.is_ascii_digit()) {
                return Err("the fast reader passed on plain JSON".to_string());
            }
        }
        Ok(())
    });
}

fn has_duplicate_keys(text: &str) -> bool {
    // serde_json keeps the last of duplicate keys; re-serialising shows whether any were lost.
    serde_json::from_str::<Value>(text)
        .map(|v| {
            let count = |t: &str| t.matches('"').count();
            count(&serde_json::to_string(&v).unwrap_or_default()) < count(text)
        })
        .unwrap_or(false)
}

fn max_depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

// --- saved reports and baselines -------------------------------------------------------------------

#[test]
fn saved_reports_under_fuzz() {
    let sources = [
        read("tests/fixtures/reports/scan.json"),
        read("tests/fixtures/reports/baseline.json"),
        read("reports/sample.json"),
    ];
    let values: Vec<Value> = sources
        .iter()
        .map(|t| serde_json::from_str(t).expect("JSON report"))
        .collect();
    let donors: Vec<&Value> = values.iter().collect();
    let text_donors: Vec<&str> = sources.iter().map(String::as_str).collect();
    let baseline = Baseline::load(&root().join("tests/fixtures/reports/baseline.json"))
        .expect("baseline fixture");
    let suppressions = Suppressions::load(&root().join("tests/fixtures/reports/suppressions.yaml"))
        .expect("suppressions fixture");
    let specs = spec::load(&[root().join("examples/specs/kms-audit")]).expect("example specs");
    for text in &sources {
        let report = parse_report("scan.json", text).expect("a valid report is refused");
        check_report(&report, 0, &baseline, &suppressions, &specs).expect("valid report");
    }

    run("report", 600, |rng, input| {
        if rng.one_in(10) {
            let text = {
                let source = rng.pick(&values);
                to_text(rng, &source)
            }
            .replace('\n', "\r\n");
            input.set(text.as_bytes());
            return parse_report("scan.json", &text)
                .map(drop)
                .map_err(|err| format!("a valid report is refused: {err}"));
        }
        let text = if rng.one_in(5) {
            mutate_text_from(rng, &text_donors, &text_donors)
        } else {
            let mut value = rng.pick(&values);
            mutate_value(rng, &mut value, &donors);
            to_text(rng, &value)
        };
        input.set(text.as_bytes());
        match parse_report("scan.json", &text) {
            Ok(report) => {
                let variant = rng.below(4);
                check_report(&report, variant, &baseline, &suppressions, &specs)
            }
            Err(err) => check_message(
                &err.to_string(),
                &Shape {
                    file: "scan.json",
                    input_lines: line_count(text.as_bytes()),
                    max_lines: 1,
                    needs_line: Some(&["no schema_version field", "is a report of schema version"]),
                },
            ),
        }
    });
}

/// A report that was read: it renders and reads back the same, it serves as a baseline, and
/// `kms-audit report` (checks, drift, suppressions, baseline, every format) runs on it.
fn check_report(
    report: &Report,
    variant: usize,
    baseline: &Baseline,
    suppressions: &Suppressions,
    specs: &spec::SpecSet,
) -> Result<(), String> {
    let text = report::render(report, Format::Json, RenderOptions::default());
    let again = parse_report("again.json", &text)
        .map_err(|err| format!("a rendered report does not read back: {err}"))?;
    if again != *report {
        return Err("a rendered report reads back different".into());
    }
    let as_baseline = Baseline::from_report("scan.json".into(), report.clone());
    let mut inputs = AnalysisInputs {
        today: Some(time::macros::date!(2026 - 03 - 01)),
        ..AnalysisInputs::default()
    };
    if variant & 1 == 1 {
        inputs.suppressions = Some(suppressions.clone());
        inputs.baseline = Some(baseline.clone());
        inputs.specs = Some(specs.clone());
    } else {
        inputs.baseline = Some(as_baseline);
    }
    let mut analyzed = report.clone();
    if variant & 2 == 2 {
        analysis::finish(&mut analyzed, &inputs);
    } else {
        analysis::analyze(&mut analyzed, &inputs);
    }
    for finding in &analyzed.findings {
        if finding.message.trim().is_empty() || finding.message.lines().count() != 1 {
            return Err(format!(
                "a finding's message is not one line: {:?}",
                finding.message
            ));
        }
    }
    for format in Format::ALL {
        let _ = report::render(
            &analyzed,
            format,
            RenderOptions {
                color: variant == 3,
                ..RenderOptions::default()
            },
        );
    }
    Ok(())
}

// --- key policies ---------------------------------------------------------------------------------

/// Every policy document in the project's fixtures and examples.
fn policy_corpus() -> Vec<Value> {
    fn collect(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                if m.contains_key("Statement") {
                    out.push(v.clone());
                }
                m.values().for_each(|c| collect(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| collect(c, out)),
            Value::String(s) if s.contains("Statement") => {
                if let Ok(inner) = serde_json::from_str::<Value>(s) {
                    collect(&inner, out);
                }
            }
            _ => {}
        }
    }
    let mut files = vec![
        root().join("examples/specs/terraform/terraform.tfstate"),
        root().join("examples/specs/pulumi/stack-export.json"),
        root().join("examples/specs/kms-audit/policies/default.json"),
        root().join("examples/specs/kms-audit/policies/orders.json"),
        root().join("tests/fixtures/reports/scan.json"),
    ];
    for entry in std::fs::read_dir(root().join("tests/fixtures/checks")).expect("fixtures") {
        files.push(entry.expect("entry").path());
    }
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("fixture");
        collect(
            &serde_json::from_str(&text).expect("fixture JSON"),
            &mut out,
        );
    }
    let mut seen = BTreeSet::new();
    out.retain(|v| seen.insert(v.to_string()));
    out
}

fn one_or_many(rng: &mut Rng, pool: &[&str]) -> Value {
    let n = 1 + rng.below(3);
    let items: Vec<Value> = (0..n).map(|_| Value::from(rng.pick(pool))).collect();
    if n == 1 && rng.one_in(2) {
        items.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(items)
    }
}

const PRINCIPALS: &[&str] = &[
    "*",
    "arn:aws:iam::111111111111:root",
    "111111111111",
    "222222222222",
    "arn:aws:iam::222222222222:root",
    "arn:aws:iam::333333333333:role/app",
    "arn:aws:iam::444444444444:user/bob",
    "arn:aws:iam::*:root",
    "arn:aws:sts::222222222222:assumed-role/r/s",
    "AIDAJQABLZS4A3QDU576Q",
    "arn:aws:iam::222222222222:role/*",
];
const ACTIONS: &[&str] = &[
    "kms:*",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:Create*",
    "kms:Describe*",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:?ncrypt",
    "*",
    "kms:Sign",
];
const CONDITION_KEYS: &[(&str, &[&str])] = &[
    ("kms:CallerAccount", &["111111111111", "222222222222", "*"]),
    (
        "kms:ViaService",
        &["s3.us-east-1.amazonaws.com", "*.amazonaws.com"],
    ),
    (
        "aws:PrincipalOrgID",
        &["o-abc123def4", "o-abcdef1234", "o-*"],
    ),
    ("aws:PrincipalAccount", &["222222222222", "333333333333"]),
    (
        "aws:PrincipalArn",
        &["arn:aws:iam::222222222222:role/x", "arn:aws:iam::*:role/x"],
    ),
    ("aws:SourceAccount", &["111111111111"]),
    ("kms:GrantIsForAWSResource", &["true", "false"]),
    ("aws:PrincipalIsAWSService", &["true"]),
    ("aws:PrincipalOrgPaths", &["o-abc123def4/r-ab12/*"]),
];
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringLike",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "ArnLike",
    "ArnEquals",
    "Bool",
    "Null",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "StringEqualsIfExists",
    "StringNotLike",
    "NumericLessThan",
];

/// A plausible key policy (most parse), so the analysis gets exercised in depth.
fn random_policy(rng: &mut Rng) -> Value {
    let mut statements = Vec::new();
    for i in 0..rng.below(5) {
        let mut s = Map::new();
        if rng.one_in(2) {
            s.insert("Sid".into(), Value::from(format!("S{i}")));
        }
        s.insert(
            "Effect".into(),
            Value::from(rng.pick(&["Allow", "Allow", "Deny", "allow"])),
        );
        let principal = match rng.below(5) {
            0 => Value::from("*"),
            1 => {
                json!({ "Service": one_or_many(rng, &["logs.amazonaws.com", "cloudtrail.amazonaws.com"]) })
            }
            _ => json!({ "AWS": one_or_many(rng, PRINCIPALS) }),
        };
        let principal_field = if rng.one_in(8) {
            "NotPrincipal"
        } else {
            "Principal"
        };
        s.insert(principal_field.into(), principal);
        let action_field = if rng.one_in(6) { "NotAction" } else { "Action" };
        s.insert(action_field.into(), one_or_many(rng, ACTIONS));
        if rng.below(4) > 0 {
            s.insert("Resource".into(), Value::from("*"));
        }
        if rng.one_in(2) {
            let mut condition = Map::new();
            for _ in 0..1 + rng.below(2) {
                let (key, values) = rng.pick(CONDITION_KEYS);
                let op = rng.pick(OPERATORS).to_string();
                let block = condition.entry(op).or_insert_with(|| json!({}));
                if let Some(block) = block.as_object_mut() {
                    block.insert(key.to_string(), one_or_many(rng, values));
                }
            }
            s.insert("Condition".into(), Value::Object(condition));
        }
        statements.push(Value::Object(s));
    }
    let mut doc = Map::new();
    if !rng.one_in(5) {
        doc.insert("Version".into(), Value::from("2012-10-17"));
    }
    if rng.one_in(3) {
        doc.insert("Id".into(), Value::from("key-policy"));
    }
    let statement = if statements.len() == 1 && rng.one_in(2) {
        statements.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(statements)
    };
    doc.insert("Statement".into(), statement);
    Value::Object(doc)
}

/// Rewrites that the canonical form documents as meaning the same (policy_diff must see no
/// difference): statement and key order, duplicates, one-element arrays, action and condition
/// key case, account ids for root ARNs, `{"AWS": "*"}` for `"*"`, `Id`, an encoded string.
fn equivalent(rng: &mut Rng, doc: &Value) -> Value {
    fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, rng.below(i + 1));
        }
    }
    fn reshape_list(rng: &mut Rng, v: &mut Value, f: &mut dyn FnMut(&mut Rng, String) -> String) {
        let mut items: Vec<String> = match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => return,
        };
        if let Value::Array(a) = v
            && a.len() != items.len()
        {
            return; // not a list of strings: left as it is
        }
        items = items.into_iter().map(|s| f(rng, s)).collect();
        shuffle(rng, &mut items);
        if !items.is_empty() && rng.one_in(3) {
            let dup = items[0].clone();
            items.push(dup);
        }
        *v = if items.len() == 1 && rng.one_in(2) {
            Value::from(items[0].clone())
        } else {
            Value::from(items)
        };
    }
    fn reorder(rng: &mut Rng, m: &mut Map<String, Value>) {
        let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
        shuffle(rng, &mut entries);
        m.extend(entries);
    }
    let Value::Object(mut top) = doc.clone() else {
        return doc.clone();
    };
    let aws_only = !doc.to_string().contains("arn:aws-");
    let mut statements: Vec<Value> = match top.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
        None => return doc.clone(),
    };
    for s in &mut statements {
        let Value::Object(m) = s else { continue };
        for field in ["Action", "NotAction"] {
            if let Some(v) = m.get_mut(field) {
                reshape_list(rng, v, &mut |rng, a| match rng.below(3) {
                    0 => a.to_ascii_lowercase(),
                    1 => a.to_ascii_uppercase(),
                    _ => a,
                });
            }
        }
        for field in ["Resource", "NotResource"] {
            if let Some(v) = m.get_mut(field) {
                reshape_list(rng, v, &mut |_, r| r);
            }
        }
        for field in ["Principal", "NotPrincipal"] {
            let Some(p) = m.get_mut(field) else { continue };
            if p.as_str() == Some("*") && rng.one_in(2) {
                *p = json!({"AWS": "*"});
            } else if let Value::Object(kinds) = p {
                for (kind, values) in kinds.iter_mut() {
                    let aws = kind == "AWS";
                    reshape_list(rng, values, &mut |rng, v| {
                        let id = v
                            .strip_prefix("arn:aws:iam::")
                            .and_then(|r| r.strip_suffix(":root"))
                            .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()));
                        match id {
                            Some(id) if aws && aws_only && rng.one_in(2) => id.to_string(),
                            _ => v,
                        }
                    });
                }
                reorder(rng, kinds);
            }
        }
        if let Some(Value::Object(ops)) = m.get_mut("Condition") {
            for block in ops.values_mut() {
                let Value::Object(keys) = block else { continue };
                let entries: Vec<(String, Value)> = std::mem::take(keys).into_iter().collect();
                for (key, mut values) in entries {
                    let key = if rng.one_in(2) {
                        key.to_ascii_lowercase()
                    } else {
                        key
                    };
                    reshape_list(rng, &mut values, &mut |_, v| v);
                    keys.insert(key, values);
                }
            }
        }
        if m.get("Sid").and_then(Value::as_str) == Some("") && rng.one_in(2) {
            m.remove("Sid");
        }
        reorder(rng, m);
    }
    shuffle(rng, &mut statements);
    if let Some(first) = statements.first().cloned()
        && rng.one_in(3)
    {
        statements.push(first);
    }
    top.insert("Statement".into(), Value::Array(statements));
    if rng.one_in(2) {
        top.remove("Id");
    } else {
        top.insert("Id".into(), Value::from("another-label"));
    }
    reorder(rng, &mut top);
    let doc = Value::Object(top);
    // As a string, when it can be one (serde_json reads at most 128 levels of nesting).
    if rng.one_in(4) && serde_json::from_str::<Value>(&doc.to_string()).is_ok() {
        Value::String(doc.to_string())
    } else {
        doc
    }
}

fn check_policy(rng: &mut Rng, doc: &Value) -> Result<(), String> {
    let parsed = KeyPolicy::parse(doc);
    match &parsed {
        Err(err) => {
            let message = err.to_string();
            if message.trim().is_empty() || message.lines().count() != 1 {
                return Err(format!("policy error is not one line: {message:?}"));
            }
        }
        Ok(policy) => {
            let contexts = [
                AnalysisContext::new("111111111111"),
                AnalysisContext {
                    key_account: "111111111111".into(),
                    trusted_accounts: ["222222222222".to_string()].into(),
                    organization_id: Some("o-abc123def4".into()),
                    organization_accounts: Some(["333333333333".to_string()].into()),
                },
            ];
            for ctx in &contexts {
                let analysis = analyze_policy(policy, ctx);
                serde_json::to_string(&analysis).map_err(|e| e.to_string())?;
            }
        }
    }
    let canonical = canonicalize(doc);
    if canonicalize(&canonical) != canonical {
        return Err(format!(
            "canonicalize is not idempotent: {canonical} becomes {}",
            canonicalize(&canonical)
        ));
    }
    let same = policy_diff(doc, doc, "111111111111");
    if !same.is_empty() {
        return Err(format!("a policy differs from itself: {}", same.summary()));
    }
    let diff = policy_diff(doc, &canonical, "111111111111");
    if !diff.is_empty() {
        return Err(format!(
            "a policy differs from its canonical form {canonical}: {}",
            diff.summary()
        ));
    }
    if let Ok(policy) = &parsed {
        let rewritten = equivalent(rng, doc);
        let diff = policy_diff(doc, &rewritten, "111111111111");
        if !diff.is_empty() {
            return Err(format!(
                "an equivalent rewrite {rewritten} differs: {}",
                diff.summary()
            ));
        }
        if let Ok(again) = KeyPolicy::parse(&rewritten) {
            let ctx = AnalysisContext::new("111111111111");
            let (a, b) = (analyze_policy(policy, &ctx), analyze_policy(&again, &ctx));
            if a.is_public() != b.is_public() {
                return Err(format!(
                    "an equivalent rewrite {rewritten} changes whether the key is public"
                ));
            }
        } else {
            return Err(format!("an equivalent rewrite {rewritten} does not parse"));
        }
    }
    // Any other document: a diff that does not panic, summarised on one line.
    let other = random_policy(rng);
    let summary = policy_diff(doc, &other, "111111111111").summary();
    if summary.lines().count() != 1 {
        return Err(format!(
            "a policy diff summary is not one line: {summary:?}"
        ));
    }
    Ok(())
}

#[test]
fn key_policies_under_fuzz() {
    let corpus = policy_corpus();
    assert!(
        corpus.len() >= 10,
        "policy corpus: {} documents",
        corpus.len()
    );
    let donors: Vec<&Value> = corpus.iter().collect();
    let texts: Vec<String> = corpus
        .iter()
        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
        .collect();
    let text_donors: Vec<&str> = texts.iter().map(String::as_str).collect();
    run("policy", 3000, |rng, input| {
        let doc = match rng.below(6) {
            0 => random_policy(rng),
            1 | 2 => {
                let mut doc = if rng.one_in(2) {
                    rng.pick(&corpus)
                } else {
                    random_policy(rng)
                };
                mutate_value(rng, &mut doc, &donors);
                doc
            }
            3 => random_value(rng, 5),
            4 => {
                // Text, as GetKeyPolicy returns it.
                let text = mutate_text_from(rng, &text_donors, &text_donors);
                input.set(text.as_bytes());
                return match KeyPolicy::from_json_str(&text) {
                    Err(err) if err.to_string().lines().count() != 1 => {
                        Err(format!("policy error is not one line: {err}"))
                    }
                    _ => check_policy(rng, &Value::String(text)),
                };
            }
            _ => rng.pick(&corpus),
        };
        input.set(doc.to_string().as_bytes());
        check_policy(rng, &doc)
    });
}

// --- resource limits: alias bombs and deep nesting ------------------------------------------------

/// A billion-laughs document: each level repeats the one below ten times.
fn alias_bomb(levels: usize, width: usize) -> String {
    let mut out = String::from("l0: &l0 [\"lol\"]\n");
    for level in 1..=levels {
        let refs = vec![format!("*l{}", level - 1); width].join(", ");
        out.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
    }
    out
}

/// Every YAML loader refuses, quickly and with its file named, documents that expand
/// exponentially through aliases or nest without end.
#[test]
fn alias_bombs_and_deep_nesting_are_refused_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bomb = alias_bomb(9, 10);
    let inputs: Vec<(&str, String)> = vec![
        ("bomb at the top", bomb.clone()),
        (
            "bomb under known fields",
            format!(
                "{}keys: *l9\ndefaults: {{tags: *l9}}\nsuppressions: *l9\naccounts: *l9\n\
                 trusted_accounts: *l9\nregions: *l9\n",
                bomb
            ),
        ),
        (
            "wide aliases",
            format!(
                "a: &a [{}]\nkeys: [{}]\n",
                vec!["x"; 1000].join(", "),
                vec!["*a"; 1000].join(", ")
            ),
        ),
        (
            "deep flow nesting",
            format!("keys: {}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        (
            "deep block nesting",
            (0..5000)
                .map(|d| format!("{}k:\n", " ".repeat(d)))
                .collect(),
        ),
        ("nested aliases of deep lists", {
            let mut s = format!("d0: &d0 {}x{}\n", "[".repeat(60), "]".repeat(60));
            for i in 1..60 {
                s.push_str(&format!("d{i}: &d{i} [[[[[[[[[[*d{}]]]]]]]]]]\n", i - 1));
            }
            s.push_str("keys: [{policy: *d59}]\n");
            s
        }),
    ];
    for (what, text) in &inputs {
        let path = dir.path().join("input.yaml");
        std::fs::write(&path, text).expect("write");
        let file = path.display().to_string();
        let shape = Shape {
            file: &file,
            input_lines: line_count(text.as_bytes()),
            max_lines: 50,
            needs_line: Some(&["errors in specs:"]),
        };
        // The YAML loaders (a saved report is JSON).
        for (loader, load) in loaders().iter().filter(|(name, _)| *name != "report") {
            let started = Instant::now();
            let outcome = panic::catch_unwind(|| load(&path));
            let took = started.elapsed();
            let message = match outcome {
                Ok(Some(message)) => message,
                Ok(None) => panic!("{loader} accepted {what}"),
                Err(payload) => panic!(
                    "{loader} panicked on {what}: {}",
                    panic_text(payload.as_ref())
                ),
            };
            eprintln!("{loader} / {what}: {took:.2?}: {message}");
            check_message(&message, &shape).unwrap_or_else(|e| panic!("{loader} / {what}: {e}"));
            // Not a benchmark: an expanded bomb takes minutes and gigabytes, a refusal
            // milliseconds; 30 s leaves room for a loaded 2-core CI machine.
            assert!(
                took < Duration::from_secs(30),
                "{loader} took {took:?} to refuse {what}"
            );
        }
    }
}
