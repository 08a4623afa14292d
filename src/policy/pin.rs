//! Whether a condition pins access to fixed callers.
//!
//! The rules are deliberately conservative: a condition counts as restricting only when it is
//! certainly false for a caller outside the values it names. Anything satisfied by an absent
//! key (negated operators, `ForAllValues:`, `…IfExists`) or by a wildcard restricts nothing.

use super::actions::has_wildcard;
use super::condition::{BaseOperator, Condition, ConditionOperator, SetQualifier};
use super::context::AnalysisContext;
use super::principal::is_account_id;
use super::text::quote;
use crate::model::arn::Arn;

/// What kind of caller attribute a condition key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFamily {
    /// aws:PrincipalAccount, kms:CallerAccount, aws:SourceAccount, aws:SourceOwner.
    Account,
    /// aws:PrincipalArn, aws:SourceArn.
    Arn,
    OrgId,
    OrgPaths,
    UserId,
    SourceIp,
    /// aws:SourceVpc, aws:SourceVpce, aws:PrincipalServiceName: fixed, but no account.
    Fixed,
    ViaService,
    Other,
}

fn key_family(key: &str) -> KeyFamily {
    match key.to_ascii_lowercase().as_str() {
        "aws:principalaccount" | "kms:calleraccount" | "aws:sourceaccount" | "aws:sourceowner" => {
            KeyFamily::Account
        }
        "aws:principalarn" | "aws:sourcearn" => KeyFamily::Arn,
        "aws:principalorgid" => KeyFamily::OrgId,
        "aws:principalorgpaths" => KeyFamily::OrgPaths,
        "aws:userid" => KeyFamily::UserId,
        "aws:sourceip" => KeyFamily::SourceIp,
        "aws:sourcevpc" | "aws:sourcevpce" | "aws:principalservicename" => KeyFamily::Fixed,
        "kms:viaservice" => KeyFamily::ViaService,
        _ => KeyFamily::Other,
    }
}

/// Keys present on every authenticated request to KMS, so a wildcard match on them in a Deny
/// holds for everyone.
const ALWAYS_PRESENT: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "kms:calleraccount",
    "aws:userid",
];

/// A fixed population a condition limits access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pin {
    /// The condition, as [`Condition::describe`] prints it.
    pub description: String,
    pub target: PinTarget,
}

impl Pin {
    /// A condition every value of which names nobody (`aws:PrincipalAccount StringEquals "*"`).
    pub(crate) fn names_nobody(&self) -> bool {
        matches!(&self.target, PinTarget::Accounts(list) if list.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PinTarget {
    /// Fixed accounts, each with the value that named it (an id or an ARN).
    Accounts(Vec<(String, String)>),
    /// Fixed organizations (from aws:PrincipalOrgID or the root of aws:PrincipalOrgPaths).
    Organizations(Vec<String>),
    /// Fixed, but not by account: VPC, IP range, service name, a resource without account.
    Other,
}

/// One value, once judged fixed.
enum Fixed {
    Account(String),
    Org(String),
    Other,
    /// A literal `*` or `?` (under an exact operator): account ids, organization ids and
    /// paths, IAM unique ids, principal and source ARNs, VPC ids and service names never hold
    /// one, so no caller has this value.
    Nobody,
}

/// The population an Allow condition pins callers to, or why it pins nothing.
///
/// kms:ViaService alone pins nothing: any account can call through that service. In the
/// AWS-managed key policy it comes with kms:CallerAccount, and that pair restricts because
/// kms:CallerAccount does.
pub(crate) fn allow_pin(c: &Condition, ctx: &AnalysisContext) -> Result<Pin, String> {
    let op = &c.operator;
    let family = key_family(&c.key);
    if op.base == BaseOperator::Unknown {
        return Err("unknown operator".into());
    }
    if op.is_non_identity() {
        return Err(format!(
            "{:?} conditions do not restrict the principal",
            op.base
        ));
    }
    if op.is_negated() {
        return Err(
            "a negated operator is satisfied by every other value and by an absent key".into(),
        );
    }
    if op.qualifier == Some(SetQualifier::ForAllValues) {
        return Err("ForAllValues: is true when the key is absent".into());
    }
    if op.if_exists {
        return Err("an IfExists operator is true when the key is absent".into());
    }
    match family {
        KeyFamily::Other => {
            return Err(format!("{} does not identify the caller", c.key));
        }
        KeyFamily::ViaService => {
            return Err(
                "kms:ViaService limits the AWS service making the call, not the calling account"
                    .into(),
            );
        }
        KeyFamily::SourceIp if op.base != BaseOperator::IpAddress => {
            return Err("aws:SourceIp is compared with IpAddress only".into());
        }
        _ if family != KeyFamily::SourceIp && !op.is_positive_match() => {
            return Err(format!("{:?} does not compare {} by value", op.base, c.key));
        }
        _ => {}
    }
    pin_values(c, family, ctx)
}

/// How a condition of a Deny statement decides whom the Deny reaches.
pub(crate) enum DenyCondition {
    /// True for every caller: the Deny applies as if unconditional.
    Always,
    /// True for everyone outside the pin: the Deny exempts exactly that population.
    Exempts(Pin),
    /// True only for some requests (or unknown): the Deny cannot be relied upon.
    Partial(String),
}

pub(crate) fn deny_condition(c: &Condition, ctx: &AnalysisContext) -> DenyCondition {
    let op = &c.operator;
    let family = key_family(&c.key);
    let key_lower = c.key.to_ascii_lowercase();
    let all_wild = !c.values.is_empty() && c.values.iter().all(|v| is_bare_wildcard(v));
    let wildcard_op = op.matches_wildcards() && !op.is_negated();
    if wildcard_op
        && all_wild
        && op.qualifier.is_none()
        && (op.if_exists || ALWAYS_PRESENT.contains(&key_lower.as_str()))
    {
        return DenyCondition::Always;
    }
    let negated_form = op.is_negated_match()
        || (op.base == BaseOperator::NotIpAddress && family == KeyFamily::SourceIp);
    if negated_form
        && op.qualifier != Some(SetQualifier::ForAnyValue)
        && !matches!(family, KeyFamily::Other | KeyFamily::ViaService)
    {
        return match pin_values(c, family, ctx) {
            // Every value names nobody (`StringNotEquals "*"`): true for every caller.
            Ok(pin) if pin.names_nobody() => DenyCondition::Always,
            Ok(pin) => DenyCondition::Exempts(pin),
            Err(why) => DenyCondition::Partial(format!(
                "its condition {} exempts too much ({why})",
                c.describe()
            )),
        };
    }
    if op.is_positive_match()
        && !matches!(family, KeyFamily::Other | KeyFamily::ViaService)
        && pin_values(c, family, ctx).is_ok_and(|pin| pin.names_nobody())
    {
        return DenyCondition::Partial(format!(
            "its condition {} matches no caller ({} compares * and ? literally)",
            c.describe(),
            c.operator.raw
        ));
    }
    DenyCondition::Partial(format!(
        "its condition {} holds only for some requests",
        c.describe()
    ))
}

fn pin_values(c: &Condition, family: KeyFamily, ctx: &AnalysisContext) -> Result<Pin, String> {
    if c.values.is_empty() {
        return Err("no values".into());
    }
    let mut fixed = c
        .values
        .iter()
        .map(|v| fixed_value(family, v, &c.operator, ctx).map(|f| (f, v)))
        .collect::<Result<Vec<_>, _>>()?;
    // A value no caller can have pins nobody: the condition is as if it did not list it.
    fixed.retain(|(f, _)| !matches!(f, Fixed::Nobody));
    let target = if fixed.iter().all(|(f, _)| matches!(f, Fixed::Account(_))) {
        PinTarget::Accounts(
            fixed
                .into_iter()
                .filter_map(|(f, v)| match f {
                    Fixed::Account(a) => Some((a, v.clone())),
                    _ => None,
                })
                .collect(),
        )
    } else if fixed.iter().all(|(f, _)| matches!(f, Fixed::Org(_))) {
        PinTarget::Organizations(
            fixed
                .into_iter()
                .filter_map(|(f, _)| match f {
                    Fixed::Org(o) => Some(o),
                    _ => None,
                })
                .collect(),
        )
    } else {
        PinTarget::Other
    };
    Ok(Pin {
        description: c.describe(),
        target,
    })
}

fn is_bare_wildcard(v: &str) -> bool {
    !v.is_empty() && v.chars().all(|c| c == '*' || c == '?')
}

/// Resolves the policy variables that name this key's own account or organization; any other
/// variable depends on the caller and is not a fixed value.
fn substitute(value: &str, ctx: &AnalysisContext) -> Result<String, String> {
    if !value.contains("${") {
        return Ok(value.to_string());
    }
    let mut out = replace_ci(value, "${aws:ResourceAccount}", &ctx.key_account);
    if let Some(org) = &ctx.organization_id {
        out = replace_ci(&out, "${aws:ResourceOrgID}", org);
    }
    if out.contains("${") {
        Err(format!("policy variable in {}", quote(value)))
    } else {
        Ok(out)
    }
}

fn replace_ci(haystack: &str, needle: &str, with: &str) -> String {
    let lower = haystack.to_ascii_lowercase();
    let needle_lower = needle.to_ascii_lowercase();
    let mut out = String::new();
    let mut last = 0;
    for (at, _) in lower.match_indices(&needle_lower) {
        out.push_str(&haystack[last..at]);
        out.push_str(with);
        last = at + needle.len();
    }
    out.push_str(&haystack[last..]);
    out
}

/// What one condition value fixes. Under an exact operator (`StringEquals`…) `*` and `?` are
/// literal characters, so an identity value holding one names nobody; under a wildcard
/// operator it matches too much to pin anything.
fn fixed_value(
    family: KeyFamily,
    raw: &str,
    op: &ConditionOperator,
    ctx: &AnalysisContext,
) -> Result<Fixed, String> {
    let literal = !op.matches_wildcards();
    let mut value = substitute(raw, ctx)?;
    if op.ignores_case() && matches!(family, KeyFamily::OrgId | KeyFamily::OrgPaths) {
        // Organization ids are lower case: that is the one an IgnoreCase value names.
        value = value.to_ascii_lowercase();
    }
    let wild = |why: &str| {
        if literal {
            Ok(Fixed::Nobody)
        } else {
            Err(why.to_string())
        }
    };
    if is_bare_wildcard(&value) {
        return wild("wildcard value");
    }
    match family {
        KeyFamily::Account => {
            if has_wildcard(&value) {
                wild("wildcard value")
            } else if is_account_id(&value) {
                Ok(Fixed::Account(value))
            } else {
                Ok(Fixed::Other)
            }
        }
        KeyFamily::Arn => fixed_arn(&value, wild),
        KeyFamily::OrgId => {
            if has_wildcard(&value) {
                wild("wildcard value")
            } else {
                Ok(Fixed::Org(value))
            }
        }
        KeyFamily::OrgPaths => {
            let org = value.split('/').next().unwrap_or_default();
            if literal && has_wildcard(&value) {
                Ok(Fixed::Nobody)
            } else if org.is_empty() || has_wildcard(org) {
                Err("wildcard organization in path".into())
            } else {
                Ok(Fixed::Org(org.to_string()))
            }
        }
        KeyFamily::UserId => {
            let id = value.split(':').next().unwrap_or_default();
            if literal && has_wildcard(&value) {
                Ok(Fixed::Nobody)
            } else if id.is_empty() || has_wildcard(id) {
                Err("wildcard value".into())
            } else if is_account_id(&value) {
                Ok(Fixed::Account(value))
            } else {
                Ok(Fixed::Other)
            }
        }
        KeyFamily::SourceIp => {
            let prefix = value
                .split_once('/')
                .and_then(|(_, p)| p.parse::<u8>().ok());
            let minimum = if value.contains(':') { 16 } else { 8 };
            match prefix {
                Some(p) if p < minimum => Err(format!("address range /{p} is too wide")),
                _ => Ok(Fixed::Other),
            }
        }
        // VPC and VPC endpoint ids and service names never hold `*` or `?` either.
        KeyFamily::Fixed | KeyFamily::ViaService | KeyFamily::Other => {
            if has_wildcard(&value) {
                wild("wildcard value")
            } else {
                Ok(Fixed::Other)
            }
        }
    }
}

/// An ARN value (aws:PrincipalArn, aws:SourceArn): fixed by its account, when it has one.
fn fixed_arn(value: &str, wild: impl Fn(&str) -> Result<Fixed, String>) -> Result<Fixed, String> {
    match Arn::parse_any_case(value) {
        Some(arn) if !arn.account.is_empty() => {
            if has_wildcard(arn.account) {
                wild("wildcard account in ARN")
            } else if is_account_id(arn.account) {
                Ok(Fixed::Account(arn.account.to_string()))
            } else {
                Ok(Fixed::Other)
            }
        }
        // An ARN without account (S3 bucket): fixed only if spelled out in full.
        Some(arn) if has_wildcard(arn.resource) => {
            wild("wildcard resource in an ARN without account")
        }
        Some(arn) if arn.resource.is_empty() => {
            Err("wildcard resource in an ARN without account".into())
        }
        Some(_) => Ok(Fixed::Other),
        None if has_wildcard(value) => wild("wildcard value"),
        None => Ok(Fixed::Other),
    }
}
