//! Semantic comparison of key policies for drift (DRF003).
//!
//! AWS returns a key policy as it was stored, and tools write the same policy in different
//! shapes (a string or a one-element array, a bare account id or its root ARN, any order), so
//! drift compares canonical forms instead of text.
//!
//! Canonical form:
//! - object keys sorted, whitespace irrelevant; `Statement` always an array, sorted and
//!   deduplicated; a statement with an empty `Sid` has none;
//! - `Principal`/`NotPrincipal` values, `Action`, `Resource` and condition values always arrays,
//!   sorted and deduplicated; `{"AWS": "*"}` is `"*"` (equivalent per the IAM reference);
//! - an `AWS` principal that is a bare 12-digit id becomes `arn:<partition>:iam::<id>:root`, the
//!   partition taken from the first principal ARN of the documents (else `aws`);
//! - actions are case-insensitive: they take the spelling of the KMS actions they name
//!   (`kms:generatedatakey*` is `kms:GenerateDataKey*`), else lower case;
//! - condition keys are lower-cased (IAM ignores their case); boolean and number condition
//!   values become strings (IAM compares their text);
//! - `Version` counts: it changes how policy variables are evaluated, and a missing Version is
//!   the IAM default `2008-10-17`. `Id` does not: it is a free-form label with no effect on access.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::actions::KMS_ACTIONS;
use super::principal::is_account_id;
use crate::model::arn::{Arn, root_arn};

/// The IAM default when a policy has no `Version`.
const DEFAULT_VERSION: &str = "2008-10-17";

/// The differences between a declared and a live policy. `added` are statements only in the
/// live policy, `removed` only in the declared one, `changed` those matched by Sid (or, without
/// Sid, by effect and principal) whose content differs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyDiff {
    pub version: Option<VersionChange>,
    pub added: Vec<StatementDiff>,
    pub removed: Vec<StatementDiff>,
    pub changed: Vec<StatementDiff>,
    /// Other top-level fields (not Version, Id or Statement) that differ; `document` when one
    /// side is not a JSON object at all.
    pub other_fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    pub declared: Option<String>,
    pub actual: Option<String>,
}

/// One statement that differs, in canonical form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementDiff {
    /// The Sid, or a short description (`Allow arn:aws:iam::…:root (key account): kms:*`).
    pub id: String,
    pub declared: Option<Value>,
    pub actual: Option<Value>,
}

impl PolicyDiff {
    pub fn is_empty(&self) -> bool {
        self.version.is_none()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.other_fields.is_empty()
    }

    /// One line for a finding message: `1 statement changed ("Admins"); 1 added (…)`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (list, what) in [
            (&self.changed, "changed"),
            (&self.added, "added"),
            (&self.removed, "removed"),
        ] {
            if !list.is_empty() {
                let ids: Vec<String> = list.iter().map(|s| format!("\"{}\"", s.id)).collect();
                let noun = if list.len() == 1 {
                    "statement"
                } else {
                    "statements"
                };
                parts.push(format!("{} {noun} {what} ({})", list.len(), ids.join(", ")));
            }
        }
        if let Some(v) = &self.version {
            parts.push(format!(
                "Version {} declared, {} live",
                v.declared.as_deref().unwrap_or("(none)"),
                v.actual.as_deref().unwrap_or("(none)")
            ));
        }
        if !self.other_fields.is_empty() {
            parts.push(format!("fields differ: {}", self.other_fields.join(", ")));
        }
        if parts.is_empty() {
            "no semantic difference".to_string()
        } else {
            // A Sid or Version may hold a line break; the summary stays on one line.
            let escape = |c: char| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            };
            parts.join("; ").chars().map(escape).collect()
        }
    }
}

/// The canonical form of a policy document (see the module documentation). A JSON string that
/// holds a document is decoded first.
pub fn canonicalize(doc: &Value) -> Value {
    let doc = decode(doc);
    let partition = infer_partition(&[doc.as_ref()]);
    canonical_document(&doc, &partition)
}

/// Compares a declared policy with the live one; `key_account` only makes descriptions of
/// Sid-less statements readable.
pub fn policy_diff(declared: &Value, actual: &Value, key_account: &str) -> PolicyDiff {
    let declared = decode(declared);
    let actual = decode(actual);
    let partition = infer_partition(&[actual.as_ref(), declared.as_ref()]);
    let d = canonical_document(&declared, &partition);
    let a = canonical_document(&actual, &partition);
    let mut diff = PolicyDiff::default();

    let (Value::Object(dm), Value::Object(am)) = (&d, &a) else {
        if d != a {
            diff.other_fields.push("document".to_string());
        }
        return diff;
    };
    let version = |m: &Map<String, Value>| m.get("Version").map(text);
    if version(dm) != version(am) {
        diff.version = Some(VersionChange {
            declared: version(dm),
            actual: version(am),
        });
    }
    let fields: BTreeSet<&String> = dm.keys().chain(am.keys()).collect();
    for field in fields {
        if !matches!(field.as_str(), "Version" | "Id" | "Statement")
            && dm.get(field) != am.get(field)
        {
            diff.other_fields.push(field.clone());
        }
    }
    let statements = |m: &Map<String, Value>| match m.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    diff_statements(&statements(dm), &statements(am), key_account, &mut diff);
    diff
}

fn diff_statements(declared: &[Value], actual: &[Value], key_account: &str, diff: &mut PolicyDiff) {
    let mut d_used = vec![false; declared.len()];
    let mut a_used = vec![false; actual.len()];
    // Identical statements first, then the same Sid, then Sid-less ones with the same
    // effect and principal.
    pair(declared, actual, &mut d_used, &mut a_used, |d, a| d == a);
    let mut changed = pair(declared, actual, &mut d_used, &mut a_used, |d, a| {
        sid(d).is_some() && sid(d) == sid(a)
    });
    changed.extend(pair(declared, actual, &mut d_used, &mut a_used, |d, a| {
        sid(d).is_none() && sid(a).is_none() && signature(d) == signature(a)
    }));
    changed.sort_unstable();
    for (i, j) in changed {
        diff.changed.push(StatementDiff {
            id: statement_id(&declared[i], key_account),
            declared: Some(declared[i].clone()),
            actual: Some(actual[j].clone()),
        });
    }
    for (d, _) in declared.iter().zip(&d_used).filter(|(_, used)| !**used) {
        diff.removed.push(StatementDiff {
            id: statement_id(d, key_account),
            declared: Some(d.clone()),
            actual: None,
        });
    }
    for (a, _) in actual.iter().zip(&a_used).filter(|(_, used)| !**used) {
        diff.added.push(StatementDiff {
            id: statement_id(a, key_account),
            declared: None,
            actual: Some(a.clone()),
        });
    }
}

/// Pairs each unused declared statement with the first unused actual one `matches` accepts.
fn pair(
    declared: &[Value],
    actual: &[Value],
    d_used: &mut [bool],
    a_used: &mut [bool],
    matches: impl Fn(&Value, &Value) -> bool,
) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (i, d) in declared.iter().enumerate() {
        if d_used[i] {
            continue;
        }
        if let Some(j) = (0..actual.len()).find(|&j| !a_used[j] && matches(d, &actual[j])) {
            d_used[i] = true;
            a_used[j] = true;
            pairs.push((i, j));
        }
    }
    pairs
}

fn sid(stmt: &Value) -> Option<&str> {
    stmt.get("Sid").and_then(Value::as_str)
}

fn signature(stmt: &Value) -> (Option<&Value>, Option<&Value>, Option<&Value>) {
    (
        stmt.get("Effect"),
        stmt.get("Principal"),
        stmt.get("NotPrincipal"),
    )
}

/// The Sid, else `Effect principal: actions`, shortened.
fn statement_id(stmt: &Value, key_account: &str) -> String {
    if let Some(sid) = sid(stmt) {
        return sid.to_string();
    }
    let effect = stmt.get("Effect").map_or_else(|| "?".to_string(), text);
    let (prefix, principal) = match (stmt.get("Principal"), stmt.get("NotPrincipal")) {
        (Some(p), _) => ("", p),
        (None, Some(p)) => ("NotPrincipal ", p),
        (None, None) => ("", &Value::Null),
    };
    let mut names: Vec<String> = match principal {
        Value::Object(m) => m.values().flat_map(flat_strings).collect(),
        other => flat_strings(other),
    };
    for name in &mut names {
        if let Some(arn) = Arn::parse_any_case(name)
            && arn.account == key_account
            && arn.resource == "root"
        {
            name.push_str(" (key account)");
        }
    }
    let (action_prefix, actions) = match (stmt.get("Action"), stmt.get("NotAction")) {
        (Some(a), _) => ("", flat_strings(a)),
        (None, Some(a)) => ("NotAction ", flat_strings(a)),
        (None, None) => ("", Vec::new()),
    };
    format!(
        "{effect} {prefix}{}: {action_prefix}{}",
        shorten(&names),
        shorten(&actions)
    )
}

fn shorten(items: &[String]) -> String {
    match items {
        [] => "-".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
    }
}

fn flat_strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A document given as a JSON string (Terraform state) is decoded; anything else is used as is.
fn decode(doc: &Value) -> Cow<'_, Value> {
    if let Value::String(s) = doc
        && let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(s)
    {
        return Cow::Owned(parsed);
    }
    Cow::Borrowed(doc)
}

/// The partition of the first principal ARN in the documents, else `aws`.
fn infer_partition(docs: &[&Value]) -> String {
    for doc in docs {
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        for stmt in statements {
            for field in ["Principal", "NotPrincipal"] {
                let Some(aws) = stmt.get(field).and_then(|p| p.get("AWS")) else {
                    continue;
                };
                for value in flat_strings(aws) {
                    if let Some(arn) = Arn::parse_any_case(&value)
                        && !arn.partition.is_empty()
                        && !arn.partition.contains('*')
                    {
                        return arn.partition.to_string();
                    }
                }
            }
        }
    }
    "aws".to_string()
}

fn canonical_document(doc: &Value, partition: &str) -> Value {
    let Value::Object(obj) = doc else {
        return sorted(doc);
    };
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        match k.as_str() {
            "Id" => {}
            "Statement" => {
                out.insert(k.clone(), canonical_statements(v, partition));
            }
            _ => {
                out.insert(k.clone(), sorted(v));
            }
        }
    }
    if obj.contains_key("Statement") && !obj.contains_key("Version") {
        out.insert("Version".into(), Value::String(DEFAULT_VERSION.into()));
    }
    Value::Object(out.into_iter().collect())
}

fn canonical_statements(v: &Value, partition: &str) -> Value {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let mut keyed: Vec<(String, Value)> = items
        .into_iter()
        .map(|s| {
            let c = canonical_statement(s, partition);
            (c.to_string(), c)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
}

fn canonical_statement(v: &Value, partition: &str) -> Value {
    let Value::Object(obj) = v else {
        return sorted(v);
    };
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let value = match k.as_str() {
            "Sid" if v.as_str().is_some_and(str::is_empty) => continue,
            "Principal" | "NotPrincipal" => canonical_principal(v, partition),
            "Action" | "NotAction" => match strings(v) {
                Some(list) => string_set(list.iter().map(|a| canonical_action(a))),
                None => sorted(v),
            },
            "Resource" | "NotResource" => match strings(v) {
                Some(list) => string_set(list),
                None => sorted(v),
            },
            "Condition" => match canonical_condition(v) {
                Some(c) => c,
                None => continue,
            },
            _ => sorted(v),
        };
        out.insert(k.clone(), value);
    }
    Value::Object(out.into_iter().collect())
}

fn canonical_principal(v: &Value, partition: &str) -> Value {
    let Value::Object(obj) = v else {
        return sorted(v);
    };
    let mut out = BTreeMap::new();
    for (kind, values) in obj {
        let value = match strings(values) {
            Some(list) if kind == "AWS" => {
                string_set(list.iter().map(|p| canonical_aws_principal(p, partition)))
            }
            Some(list) => string_set(list),
            None => sorted(values),
        };
        out.insert(kind.clone(), value);
    }
    if out.len() == 1
        && out
            .get("AWS")
            .is_some_and(|v| v.as_array().is_some_and(|a| a.len() == 1 && a[0] == "*"))
    {
        return Value::String("*".into());
    }
    Value::Object(out.into_iter().collect())
}

fn canonical_aws_principal(p: &str, partition: &str) -> String {
    if is_account_id(p) {
        return root_arn(partition, p);
    }
    match Arn::parse_any_case(p) {
        Some(arn)
            if arn.service == "iam" && arn.resource == "root" && is_account_id(arn.account) =>
        {
            root_arn(arn.partition, arn.account)
        }
        _ => p.to_string(),
    }
}

/// Known actions take their documented spelling; in a wildcard pattern each literal run takes
/// the spelling it has inside a known action (`kms:generatedatakey*` → `kms:GenerateDataKey*`),
/// else lower case. The result depends only on the lower-cased input, so equal means
/// case-insensitively equal.
fn canonical_action(a: &str) -> String {
    if let Some(known) = KMS_ACTIONS.iter().find(|k| k.eq_ignore_ascii_case(a)) {
        return (*known).to_string();
    }
    let mut out = String::new();
    let mut literal = String::new();
    for c in a.chars().chain(std::iter::once('*')) {
        if c == '*' || c == '?' {
            out.push_str(&spelled(&literal));
            literal.clear();
            out.push(c);
        } else {
            literal.push(c);
        }
    }
    out.pop(); // the sentinel
    out
}

fn spelled(literal: &str) -> String {
    let lower = literal.to_ascii_lowercase();
    if lower.is_empty() {
        return lower;
    }
    KMS_ACTIONS
        .iter()
        .find_map(|k| {
            let at = k.to_ascii_lowercase().find(&lower)?;
            k.get(at..at + lower.len()).map(str::to_string)
        })
        .unwrap_or(lower)
}

/// Operator → lower-cased key → sorted values; empty blocks vanish (`None` when nothing is left).
fn canonical_condition(v: &Value) -> Option<Value> {
    let Value::Object(ops) = v else {
        return Some(sorted(v));
    };
    let mut out = BTreeMap::new();
    for (op, keys) in ops {
        let Value::Object(keys) = keys else {
            out.insert(op.clone(), sorted(keys));
            continue;
        };
        let mut block = BTreeMap::new();
        for (key, values) in keys {
            let list: Vec<Value> = match values {
                Value::Array(items) => items.clone(),
                one => vec![one.clone()],
            };
            let value = if list
                .iter()
                .all(|x| !x.is_array() && !x.is_object() && !x.is_null())
            {
                string_set(list.iter().map(text))
            } else {
                sorted(values)
            };
            block.insert(key.to_ascii_lowercase(), value);
        }
        if !block.is_empty() {
            out.insert(op.clone(), Value::Object(block.into_iter().collect()));
        }
    }
    (!out.is_empty()).then(|| Value::Object(out.into_iter().collect()))
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

fn string_set(items: impl IntoIterator<Item = String>) -> Value {
    let set: BTreeSet<String> = items.into_iter().collect();
    Value::Array(set.into_iter().map(Value::String).collect())
}

/// The value with every object's keys sorted (array order kept).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(obj) => {
            let map: BTreeMap<&String, Value> = obj.iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(map.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
