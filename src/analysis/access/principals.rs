//! Principal values as entries name them: principal ARNs, grantees.

use crate::policy::AwsPrincipal;

use crate::model::access::Principal;

/// An IAM principal ARN by its resource type (`role`, `user`, …); sessions, federated users
/// and identity providers stay as written.
pub(crate) fn of_arn(arn: &str, kind: &str) -> Principal {
    let arn = arn.to_string();
    match kind {
        "role" => Principal::Role { arn },
        "user" => Principal::User { arn },
        "group" => Principal::Group { arn },
        _ => Principal::Other { value: arn },
    }
}

/// A grant's grantee: a principal ARN, an account, or an AWS service principal.
pub(crate) fn of_grantee(value: &str) -> Principal {
    match AwsPrincipal::parse(value) {
        AwsPrincipal::Account { account, .. } => Principal::Account { account },
        AwsPrincipal::Arn { arn, kind, .. } => of_arn(&arn, &kind),
        _ if !value.starts_with("arn:") && value.ends_with(".amazonaws.com") => {
            Principal::Service {
                service: value.to_string(),
                for_account: None,
            }
        }
        _ => Principal::Other {
            value: value.to_string(),
        },
    }
}

/// The account a principal ARN belongs to.
pub(crate) fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}
