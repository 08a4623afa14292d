//! Validation of declared keys, whatever their source: the rules AWS itself enforces (ranges,
//! key spec and usage pairs, rotation only for symmetric keys) and the spec's own (an identity,
//! no key declared twice). Every error names the file, line and field it comes from.

use std::collections::{BTreeMap, BTreeSet};

use super::{DeclaredKey, SpecError};
use crate::model::arn::Arn;
use crate::policy::KeyPolicy;

/// Key specs and the key usages AWS allows for each.
const KEY_SPECS: &[(&str, &[&str])] = &[
    ("SYMMETRIC_DEFAULT", &["ENCRYPT_DECRYPT"]),
    ("RSA_2048", &["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
    ("RSA_3072", &["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
    ("RSA_4096", &["ENCRYPT_DECRYPT", "SIGN_VERIFY"]),
    ("ECC_NIST_P256", &["SIGN_VERIFY", "KEY_AGREEMENT"]),
    ("ECC_NIST_P384", &["SIGN_VERIFY", "KEY_AGREEMENT"]),
    ("ECC_NIST_P521", &["SIGN_VERIFY", "KEY_AGREEMENT"]),
    ("ECC_SECG_P256K1", &["SIGN_VERIFY"]),
    ("ECC_NIST_EDWARDS25519", &["SIGN_VERIFY"]),
    ("HMAC_224", &["GENERATE_VERIFY_MAC"]),
    ("HMAC_256", &["GENERATE_VERIFY_MAC"]),
    ("HMAC_384", &["GENERATE_VERIFY_MAC"]),
    ("HMAC_512", &["GENERATE_VERIFY_MAC"]),
    ("ML_DSA_44", &["SIGN_VERIFY"]),
    ("ML_DSA_65", &["SIGN_VERIFY"]),
    ("ML_DSA_87", &["SIGN_VERIFY"]),
    ("ML_KEM_512", &["ENCAPSULATE_DECAPSULATE"]),
    ("ML_KEM_768", &["ENCAPSULATE_DECAPSULATE"]),
    ("ML_KEM_1024", &["ENCAPSULATE_DECAPSULATE"]),
    ("SM2", &["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"]),
];

const KEY_USAGES: &[&str] = &[
    "ENCRYPT_DECRYPT",
    "SIGN_VERIFY",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "ENCAPSULATE_DECAPSULATE",
];

/// AWS's limits for `RotationPeriodInDays` and `PendingWindowInDays`.
pub const ROTATION_PERIOD_DAYS: std::ops::RangeInclusive<u32> = 90..=2560;
pub const DELETION_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=30;

/// Every problem of every key, and keys declared more than once.
pub fn validate(keys: &[DeclaredKey]) -> Vec<SpecError> {
    let mut errors = Vec::new();
    for key in keys {
        validate_key(key, &mut errors);
    }
    let mut seen: BTreeMap<String, &DeclaredKey> = BTreeMap::new();
    for key in keys {
        if key.alias.is_none() && key.key_arn.is_none() {
            continue;
        }
        let identity = key.identity();
        if let Some(first) = seen.get(&identity) {
            let (field, what) = match &key.alias {
                Some(alias) => (
                    "alias",
                    format!("{alias} in {} {} is", key.account, key.region),
                ),
                None => ("key_arn", "this key is".to_string()),
            };
            errors.push(SpecError::field(
                &key.field_source(field),
                format!(
                    "{what} already declared at {}:{}",
                    first.location.file, first.location.line
                ),
            ));
        } else {
            seen.insert(identity, key);
        }
    }
    errors
}

/// Every problem of one key, in the order its fields are checked: identity, account and
/// region, key spec and usage, rotation, deletion window, replicas, tags, policy. The order is
/// part of the output (errors are reported as found), so each family is checked in turn.
fn validate_key(key: &DeclaredKey, errors: &mut Vec<SpecError>) {
    let mut error = |field: &str, message: String| {
        errors.push(SpecError::field(&key.field_source(field), message));
    };
    check_identity(key, &mut error);
    check_account_and_region(key, &mut error);
    check_spec_and_usage(key, &mut error);
    check_rotation(key, &mut error);
    check_deletion_window(key, &mut error);
    check_replicas(key, &mut error);
    check_tags(key, &mut error);
    check_policy(key, &mut error);
}

/// A key needs an identity (alias or key ARN), and what it has must be well formed: the
/// alias is what drift matches live keys by, so a malformed one would only ever be "missing".
fn check_identity(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    if key.alias.is_none() && key.key_arn.is_none() {
        error(
            "alias",
            "a key needs an `alias` (with account and region) or a `key_arn`".to_string(),
        );
    }
    if let Some(alias) = &key.alias {
        check_alias_name(alias, error);
    }
    if let Some(arn) = &key.key_arn
        && !Arn::parse_kms(arn).is_some_and(|a| a.is_key())
    {
        error(
            "key_arn",
            format!(
                "\"{arn}\" is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID, or an \
                 alias ARN)"
            ),
        );
    }
}

/// AWS's rules for an alias name; at most one error, the first rule it breaks.
fn check_alias_name(alias: &str, error: &mut impl FnMut(&str, String)) {
    if !alias.starts_with("alias/") || alias.len() <= "alias/".len() {
        error(
            "alias",
            format!("\"{alias}\" is not an alias name: it starts with alias/"),
        );
    } else if alias.starts_with("alias/aws/") {
        error(
            "alias",
            format!("{alias} is reserved for AWS-managed keys, which cannot be declared"),
        );
    } else if !alias["alias/".len()..]
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    {
        error(
            "alias",
            format!("{alias}: an alias name has only letters, digits, /, _ and -"),
        );
    }
}

/// Account and region: required unless a key ARN carries them, and real when given, since
/// drift decides from them whether the key's target was scanned.
fn check_account_and_region(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    if key.account.is_empty() {
        if key.key_arn.is_none() {
            error(
                "account",
                "no account: set `account` on the key or in `defaults`".to_string(),
            );
        }
    } else if !crate::policy::is_account_id(&key.account) {
        error(
            "account",
            format!("\"{}\" is not a 12-digit AWS account id", key.account),
        );
    }
    if key.region.is_empty() {
        if key.key_arn.is_none() {
            error(
                "region",
                "no region: set `region` on the key or in `defaults`".to_string(),
            );
        }
    } else if crate::model::regions::lookup(&key.region).is_none() {
        error(
            "region",
            format!(
                "unknown region \"{}\": use AWS region codes such as us-east-1",
                key.region
            ),
        );
    }
}

/// The key spec must be one AWS knows, and the key usage one that spec allows: a pair AWS
/// would refuse to create can never match a live key.
fn check_spec_and_usage(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    let spec_usages = key.key_spec.as_deref().map(|spec| {
        KEY_SPECS
            .iter()
            .find(|(name, _)| *name == spec)
            .map(|(_, usages)| *usages)
    });
    if let (Some(spec), Some(None)) = (&key.key_spec, spec_usages) {
        error(
            "key_spec",
            format!(
                "unknown key spec \"{spec}\", expected one of: {}",
                KEY_SPECS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if let Some(usage) = &key.key_usage {
        if !KEY_USAGES.contains(&usage.as_str()) {
            error(
                "key_usage",
                format!(
                    "unknown key usage \"{usage}\", expected one of: {}",
                    KEY_USAGES.join(", ")
                ),
            );
        } else if let (Some(spec), Some(Some(usages))) = (&key.key_spec, spec_usages)
            && !usages.contains(&usage.as_str())
        {
            error(
                "key_usage",
                format!(
                    "a {spec} key cannot have usage {usage} (it allows {})",
                    usages.join(", ")
                ),
            );
        }
    }
}

/// Automatic rotation exists only for symmetric keys, and its period only within AWS's range
/// and with rotation on.
fn check_rotation(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    let rotatable = key
        .key_spec
        .as_deref()
        .is_none_or(|spec| spec == "SYMMETRIC_DEFAULT");
    if key.enable_key_rotation == Some(true) && !rotatable {
        error(
            "enable_key_rotation",
            format!(
                "automatic rotation is only for SYMMETRIC_DEFAULT keys; a {} key cannot rotate",
                key.key_spec.as_deref().unwrap_or_default()
            ),
        );
    }
    if let Some(period) = key.rotation_period_in_days {
        if !ROTATION_PERIOD_DAYS.contains(&period) {
            error(
                "rotation_period_in_days",
                format!(
                    "{period} is outside {}..{} days",
                    ROTATION_PERIOD_DAYS.start(),
                    ROTATION_PERIOD_DAYS.end()
                ),
            );
        } else if key.enable_key_rotation == Some(false) {
            error(
                "rotation_period_in_days",
                "a rotation period needs enable_key_rotation: true".to_string(),
            );
        } else if !rotatable {
            error(
                "rotation_period_in_days",
                format!(
                    "a {} key cannot rotate",
                    key.key_spec.as_deref().unwrap_or_default()
                ),
            );
        }
    }
}

/// The deletion window must be within AWS's range.
fn check_deletion_window(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    if let Some(days) = key.deletion_window_in_days
        && !DELETION_WINDOW_DAYS.contains(&days)
    {
        error(
            "deletion_window_in_days",
            format!(
                "{days} is outside {}..{} days",
                DELETION_WINDOW_DAYS.start(),
                DELETION_WINDOW_DAYS.end()
            ),
        );
    }
}

/// Replica regions: only on a multi-Region key, each a real region other than the key's own,
/// each once.
fn check_replicas(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    let Some(replicas) = &key.replica_regions else {
        return;
    };
    if key.multi_region == Some(false) && !replicas.is_empty() {
        error(
            "replica_regions",
            "replicas need multi_region: true".to_string(),
        );
    }
    let mut seen = BTreeSet::new();
    for region in replicas {
        if crate::model::regions::lookup(region).is_none() {
            error("replica_regions", format!("unknown region \"{region}\""));
        } else if *region == key.region {
            error(
                "replica_regions",
                format!("{region} is the key's own region, not a replica region"),
            );
        } else if !seen.insert(region) {
            error("replica_regions", format!("{region} is listed twice"));
        }
    }
}

/// Tags within AWS's limits: a name of 1 to 128 characters without the reserved `aws:`
/// prefix, a value of at most 256.
fn check_tags(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    let Some(tags) = &key.tags else {
        return;
    };
    for (name, value) in tags {
        if name.is_empty() || name.chars().count() > 128 {
            error(
                "tags",
                format!("tag name \"{name}\" must have 1 to 128 characters"),
            );
        } else if name.starts_with("aws:") {
            error(
                "tags",
                format!("tag name \"{name}\": the aws: prefix is reserved"),
            );
        }
        if value.chars().count() > 256 {
            error(
                "tags",
                format!("the value of tag \"{name}\" is longer than 256 characters"),
            );
        }
    }
}

/// The declared policy must parse as a key policy; the error names the field it came from
/// (`policy_file` when it was read from a file).
fn check_policy(key: &DeclaredKey, error: &mut impl FnMut(&str, String)) {
    if let Some(policy) = &key.policy
        && let Err(err) = KeyPolicy::parse(policy)
    {
        let field = if key.policy_file.is_some() {
            "policy_file"
        } else {
            "policy"
        };
        error(field, format!("invalid key policy: {err}"));
    }
}
