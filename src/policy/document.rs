//! Parsing a policy document (a key policy, or an identity-based IAM policy) into a normalized
//! model.
//!
//! The parser accepts what AWS accepts (string-or-array values, one statement object or an
//! array) and rejects only what makes a statement meaningless (no Effect, no Principal, no
//! Action), so the auditor reports an unreadable policy instead of guessing.

use serde::Serialize;
use serde_json::{Map, Value};

use super::actions::kms_action_matches;
use super::condition::{Condition, ConditionOperator};
use super::principal::AwsPrincipal;
use super::text::quote;

/// Why a policy document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum PolicyError {
    #[error("policy is not valid JSON: {0}")]
    Json(String),
    #[error("policy document is not a JSON object")]
    NotAnObject,
    #[error("policy document has no Statement")]
    MissingStatement,
    #[error("policy document: {0}")]
    Document(String),
    #[error("statement {index}: {message}")]
    Statement { index: usize, message: String },
}

/// A parsed key policy. `Id` is kept for evidence; it has no effect on access.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyPolicy {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// One statement. `index` is its 0-based position in the document, the stable way to name a
/// statement that has no Sid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: PrincipalClause,
    pub actions: ActionClause,
    pub resources: ResourceClause,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Principal` or `NotPrincipal` (a key policy statement always has exactly one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalClause {
    Principal(Principals),
    NotPrincipal(Principals),
}

/// The value of a principal element.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Principals {
    /// The bare string `"*"`.
    Any,
    Set(PrincipalSet),
}

/// The object form `{"AWS": …, "Service": …, "Federated": …, "CanonicalUser": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PrincipalSet {
    pub aws: Vec<AwsPrincipal>,
    pub service: Vec<String>,
    pub federated: Vec<String>,
    pub canonical_user: Vec<String>,
    /// Principal types AWS does not define, as `Type:value`, kept for reporting.
    pub other: Vec<String>,
}

impl Principals {
    /// `"*"`, or an `AWS` list holding `"*"` (or a wildcard-account ARN).
    pub fn is_everyone(&self) -> bool {
        match self {
            Self::Any => true,
            Self::Set(set) => set.aws.iter().any(AwsPrincipal::is_everyone),
        }
    }

    /// The `AWS` principals (none for `"*"`).
    pub fn aws(&self) -> &[AwsPrincipal] {
        match self {
            Self::Any => &[],
            Self::Set(set) => &set.aws,
        }
    }

    /// The principal as it reads in a reason text: `Principal "*"` or `{"AWS": "*"}`.
    pub(crate) fn everyone_form(&self) -> String {
        match self {
            Self::Any => "\"*\"".to_string(),
            Self::Set(set) => {
                let wildcard = set
                    .aws
                    .iter()
                    .find(|p| p.is_everyone())
                    .map_or("*", AwsPrincipal::as_str);
                format!("{{\"AWS\": {}}}", quote(wildcard))
            }
        }
    }
}

/// `Action` or `NotAction`, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionClause {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

impl ActionClause {
    /// Whether the statement applies to `action`.
    pub fn covers(&self, action: &str) -> bool {
        match self {
            Self::Action(p) => p.iter().any(|p| kms_action_matches(p, action)),
            Self::NotAction(p) => !p.iter().any(|p| kms_action_matches(p, action)),
        }
    }

    pub fn patterns(&self) -> &[String] {
        match self {
            Self::Action(p) | Self::NotAction(p) => p,
        }
    }

    pub fn is_not_action(&self) -> bool {
        matches!(self, Self::NotAction(_))
    }
}

/// `Resource` / `NotResource`. In a key policy `"*"` means "this key"; the analysis treats
/// every statement as applying to the key (conservative for Allow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceClause {
    Resource(Vec<String>),
    NotResource(Vec<String>),
    Unspecified,
}

impl KeyPolicy {
    /// Parses a policy document given as text (GetKeyPolicy returns a string).
    pub fn from_json_str(text: &str) -> Result<Self, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        Self::parse(&value)
    }

    /// Parses a policy document. A JSON string holding a document is accepted too, since
    /// Terraform state and some exports carry the policy as an encoded string.
    pub fn parse(doc: &Value) -> Result<Self, PolicyError> {
        let obj = match doc {
            Value::Object(obj) => obj,
            Value::String(text) => return Self::from_json_str(text),
            _ => return Err(PolicyError::NotAnObject),
        };
        let (version, id, statements) = parse_document(obj, parse_statement)?;
        Ok(Self {
            version,
            id,
            statements,
        })
    }
}

/// An identity-based (IAM) policy: the document of a managed or inline policy. Its statements
/// name no principal: they apply to the user, group or role the policy is attached to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityPolicy {
    pub version: Option<String>,
    pub statements: Vec<IdentityStatement>,
}

/// One statement of an [`IdentityPolicy`]; `index` as in [`Statement`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityStatement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionClause,
    pub resources: ResourceClause,
    pub conditions: Vec<Condition>,
}

impl IdentityPolicy {
    /// Parses a policy document given as text (IAM returns it URL-encoded; decode it first).
    pub fn from_json_str(text: &str) -> Result<Self, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
        Self::parse(&value)
    }

    /// Parses a policy document; a statement with `Principal` or `NotPrincipal` is refused,
    /// since IAM refuses it in an identity-based policy.
    pub fn parse(doc: &Value) -> Result<Self, PolicyError> {
        let obj = match doc {
            Value::Object(obj) => obj,
            Value::String(text) => return Self::from_json_str(text),
            _ => return Err(PolicyError::NotAnObject),
        };
        let (version, _id, statements) = parse_document(obj, parse_identity_statement)?;
        Ok(Self {
            version,
            statements,
        })
    }
}

type DocumentParts<T> = (Option<String>, Option<String>, Vec<T>);

/// `Version`, `Id` and the statements of a policy document, each parsed by `statement`.
fn parse_document<T>(
    obj: &Map<String, Value>,
    statement: fn(usize, &Value) -> Result<T, String>,
) -> Result<DocumentParts<T>, PolicyError> {
    let version = opt_string(obj, "Version").map_err(PolicyError::Document)?;
    let id = match obj.get("Id") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let raw: Vec<&Value> = match obj.get("Statement") {
        None => return Err(PolicyError::MissingStatement),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => {
            return Err(PolicyError::Document(
                "Statement must be an object or an array".into(),
            ));
        }
    };
    let statements = raw
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            statement(index, v).map_err(|message| PolicyError::Statement { index, message })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((version, id, statements))
}

fn parse_statement(index: usize, value: &Value) -> Result<Statement, String> {
    let (obj, sid, effect) = statement_head(value)?;
    let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(p), None) => PrincipalClause::Principal(parse_principals(p)?),
        (None, Some(p)) => PrincipalClause::NotPrincipal(parse_principals(p)?),
        (Some(_), Some(_)) => return Err("has both Principal and NotPrincipal".into()),
        (None, None) => return Err("missing Principal (required in a key policy)".into()),
    };
    let (actions, resources, conditions) = statement_body(obj)?;
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        actions,
        resources,
        conditions,
    })
}

fn parse_identity_statement(index: usize, value: &Value) -> Result<IdentityStatement, String> {
    let (obj, sid, effect) = statement_head(value)?;
    if obj.contains_key("Principal") || obj.contains_key("NotPrincipal") {
        return Err("has a Principal (not allowed in an identity-based policy)".into());
    }
    let (actions, resources, conditions) = statement_body(obj)?;
    Ok(IdentityStatement {
        index,
        sid,
        effect,
        actions,
        resources,
        conditions,
    })
}

/// A statement object, its Sid and its Effect.
type StatementHead<'a> = (&'a Map<String, Value>, Option<String>, Effect);

/// The part every kind of statement starts with; errors in the order a key policy reports them.
fn statement_head(value: &Value) -> Result<StatementHead<'_>, String> {
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    let sid = opt_string(obj, "Sid")?.filter(|s| !s.is_empty());
    let effect = match obj.get("Effect").and_then(Value::as_str) {
        Some(e) if e.eq_ignore_ascii_case("Allow") => Effect::Allow,
        Some(e) if e.eq_ignore_ascii_case("Deny") => Effect::Deny,
        Some(e) => return Err(format!("Effect must be Allow or Deny, not {}", quote(e))),
        None => return Err("missing Effect".into()),
    };
    Ok((obj, sid, effect))
}

/// Action, Resource and Condition, the part every kind of statement shares.
fn statement_body(
    obj: &Map<String, Value>,
) -> Result<(ActionClause, ResourceClause, Vec<Condition>), String> {
    let actions = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(a), None) => ActionClause::Action(string_list(a, "Action")?),
        (None, Some(a)) => ActionClause::NotAction(string_list(a, "NotAction")?),
        (Some(_), Some(_)) => return Err("has both Action and NotAction".into()),
        (None, None) => return Err("missing Action".into()),
    };
    let resources = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(r), None) => ResourceClause::Resource(string_list(r, "Resource")?),
        (None, Some(r)) => ResourceClause::NotResource(string_list(r, "NotResource")?),
        (Some(_), Some(_)) => return Err("has both Resource and NotResource".into()),
        (None, None) => ResourceClause::Unspecified,
    };
    let conditions = match obj.get("Condition") {
        None | Some(Value::Null) => Vec::new(),
        Some(c) => parse_conditions(c)?,
    };
    Ok((actions, resources, conditions))
}

fn parse_principals(value: &Value) -> Result<Principals, String> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Any),
        Value::String(s) => Err(format!(
            "Principal string must be \"*\", not {} (use {{\"AWS\": …}})",
            quote(s)
        )),
        Value::Object(map) => {
            let mut set = PrincipalSet::default();
            for (kind, v) in map {
                let values = string_list(v, kind)?;
                match kind.as_str() {
                    "AWS" => set
                        .aws
                        .extend(values.iter().map(|s| AwsPrincipal::parse(s))),
                    "Service" => set.service.extend(values),
                    "Federated" => set.federated.extend(values),
                    "CanonicalUser" => set.canonical_user.extend(values),
                    other => set
                        .other
                        .extend(values.into_iter().map(|v| format!("{other}:{v}"))),
                }
            }
            Ok(Principals::Set(set))
        }
        _ => Err("Principal must be \"*\" or an object".into()),
    }
}

fn parse_conditions(value: &Value) -> Result<Vec<Condition>, String> {
    let Value::Object(ops) = value else {
        return Err("Condition must be an object".into());
    };
    let mut out = Vec::new();
    for (op, keys) in ops {
        let operator = ConditionOperator::parse(op);
        let Value::Object(keys) = keys else {
            return Err(format!("Condition operator {op} must map keys to values"));
        };
        for (key, v) in keys {
            out.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                values: condition_values(v).map_err(|m| format!("Condition {op} {key}: {m}"))?,
            });
        }
    }
    Ok(out)
}

/// Condition values are strings, booleans or numbers (or arrays of them); IAM compares their
/// text, so they are kept as strings.
fn condition_values(value: &Value) -> Result<Vec<String>, String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("values must be strings, booleans or numbers".to_string()),
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

fn string_list(value: &Value, field: &str) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{field} must hold strings"))
            })
            .collect(),
        _ => Err(format!("{field} must be a string or an array of strings")),
    }
}

fn opt_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} must be a string")),
    }
}
