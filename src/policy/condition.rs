//! Condition syntax: one condition (operator, key, values) and what its operator means.
//!
//! Only the operator's properties live here (negated? wildcards? case?); what a condition
//! implies about the caller is [`super::pin`]'s business.

use serde::Serialize;

use super::text::quote;

/// One condition: operator, key and values (ANDed with the statement's other conditions,
/// values ORed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub operator: ConditionOperator,
    /// The key as written; compare with [`Condition::key_is`] (keys are case-insensitive).
    pub key: String,
    pub values: Vec<String>,
}

impl Condition {
    pub fn key_is(&self, name: &str) -> bool {
        self.key.eq_ignore_ascii_case(name)
    }

    /// `aws:PrincipalArn StringLike "*"`: how reason texts name a condition.
    pub fn describe(&self) -> String {
        let values = match self.values.as_slice() {
            [one] => quote(one),
            many => format!(
                "[{}]",
                many.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ")
            ),
        };
        format!("{} {} {}", self.key, self.operator.raw, values)
    }
}

/// A condition operator split into its parts: `ForAnyValue:StringLikeIfExists` is
/// `{qualifier: ForAnyValue, base: StringLike, if_exists: true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionOperator {
    /// As written in the policy.
    pub raw: String,
    pub qualifier: Option<SetQualifier>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
    /// Not an IAM operator; never restricts, and makes a Deny not count.
    Unknown,
}

const BASE_OPERATORS: &[(&str, BaseOperator)] = &[
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl ConditionOperator {
    /// Splits an operator name; unknown names become [`BaseOperator::Unknown`].
    pub fn parse(raw: &str) -> Self {
        let mut rest = raw;
        let mut qualifier = None;
        for (prefix, q) in [
            ("ForAnyValue:", SetQualifier::ForAnyValue),
            ("ForAllValues:", SetQualifier::ForAllValues),
        ] {
            if let Some(head) = rest.get(..prefix.len())
                && head.eq_ignore_ascii_case(prefix)
            {
                qualifier = Some(q);
                rest = &rest[prefix.len()..];
            }
        }
        let find = |name: &str| {
            BASE_OPERATORS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, b)| *b)
        };
        let (base, if_exists) = match find(rest) {
            Some(b) => (b, false),
            None => {
                let split = rest.len().checked_sub("IfExists".len());
                match split.and_then(|at| rest.get(at..).map(|tail| (at, tail))) {
                    Some((at, tail)) if tail.eq_ignore_ascii_case("IfExists") => {
                        (find(&rest[..at]).unwrap_or(BaseOperator::Unknown), true)
                    }
                    _ => (BaseOperator::Unknown, false),
                }
            }
        };
        Self {
            raw: raw.to_string(),
            qualifier,
            base,
            if_exists,
        }
    }

    /// Whether `*` and `?` in the values are wildcards: for `StringLike`, `StringNotLike` and
    /// the four ARN operators (the IAM reference gives `ArnEquals` the same matching as
    /// `ArnLike`). Every other operator compares them as the literal characters.
    pub fn matches_wildcards(&self) -> bool {
        use BaseOperator::*;
        matches!(
            self.base,
            StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike
        )
    }

    /// Whether values compare case-insensitively (`StringEqualsIgnoreCase` and its negation).
    pub fn ignores_case(&self) -> bool {
        matches!(
            self.base,
            BaseOperator::StringEqualsIgnoreCase | BaseOperator::StringNotEqualsIgnoreCase
        )
    }

    /// Satisfied by every value it does not list (and by an absent key).
    pub fn is_negated(&self) -> bool {
        use BaseOperator::*;
        matches!(
            self.base,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | ArnNotEquals
                | ArnNotLike
                | NotIpAddress
                | NumericNotEquals
                | DateNotEquals
        )
    }

    /// A positive string or ARN comparison: the operators that can pin values.
    pub(crate) fn is_positive_match(&self) -> bool {
        use BaseOperator::*;
        matches!(
            self.base,
            StringEquals | StringEqualsIgnoreCase | StringLike | ArnEquals | ArnLike
        )
    }

    pub(crate) fn is_negated_match(&self) -> bool {
        use BaseOperator::*;
        matches!(
            self.base,
            StringNotEquals | StringNotEqualsIgnoreCase | StringNotLike | ArnNotEquals | ArnNotLike
        )
    }

    pub(crate) fn is_non_identity(&self) -> bool {
        use BaseOperator::*;
        matches!(
            self.base,
            NumericEquals
                | NumericNotEquals
                | NumericLessThan
                | NumericLessThanEquals
                | NumericGreaterThan
                | NumericGreaterThanEquals
                | DateEquals
                | DateNotEquals
                | DateLessThan
                | DateLessThanEquals
                | DateGreaterThan
                | DateGreaterThanEquals
                | Bool
                | BinaryEquals
                | Null
        )
    }
}
