//! `--org`: the accounts of an AWS Organization, optionally under some OUs (recursively).
//!
//! Organizations has low request quotas, so these calls run one at a time; a whole organization
//! of hundreds of accounts costs a handful of pages.

use std::collections::{BTreeSet, VecDeque};

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};

use crate::scan::aws::CallError;
use crate::scan::aws::paginate::{Page, PaginationError, all_pages};

/// What kms-audit learns about the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub management_account: String,
    /// Every ACTIVE member account (management included), sorted by id.
    pub accounts: Vec<OrgAccount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: Option<String>,
}

/// An Organizations call that failed, with the operation for the error message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("organizations:{operation} failed: {error}")]
pub struct OrgError {
    pub operation: &'static str,
    pub error: CallError,
}

/// A listing that would not end names its own operation.
impl From<PaginationError> for OrgError {
    fn from(err: PaginationError) -> Self {
        OrgError {
            operation: err.operation(),
            error: err.into(),
        }
    }
}

fn org_error<E>(operation: &'static str) -> impl FnOnce(E) -> OrgError
where
    E: Into<CallError>,
{
    move |err| OrgError {
        operation,
        error: err.into(),
    }
}

/// Reads the organization and its ACTIVE accounts.
pub async fn describe(client: &Client) -> Result<Organization, OrgError> {
    let org = client
        .describe_organization()
        .send()
        .await
        .map_err(org_error("DescribeOrganization"))?;
    let org = org.organization().ok_or_else(|| OrgError {
        operation: "DescribeOrganization",
        error: CallError::new(None, "the response described no organization"),
    })?;
    let mut accounts = all_pages("ListAccounts", |token| async move {
        let page = client
            .list_accounts()
            .set_next_token(token)
            .send()
            .await
            .map_err(org_error("ListAccounts"))?;
        let accounts = page
            .accounts()
            .iter()
            .filter(|a| is_active(a))
            .filter_map(|a| {
                Some(OrgAccount {
                    id: a.id()?.to_string(),
                    name: a.name().map(str::to_string),
                })
            })
            .collect();
        Ok::<_, OrgError>(Page {
            items: accounts,
            next: page.next_token().map(str::to_string),
        })
    })
    .await?;
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    accounts.dedup_by(|a, b| a.id == b.id);
    Ok(Organization {
        id: org.id().unwrap_or_default().to_string(),
        management_account: org.master_account_id().unwrap_or_default().to_string(),
        accounts,
    })
}

/// ACTIVE by the newer `State` field when present, else by the older `Status`.
fn is_active(account: &Account) -> bool {
    match account.state() {
        Some(state) => *state == AccountState::Active,
        None => account.status() == Some(&AccountStatus::Active),
    }
}

/// The ids of every account under the given OUs (or roots), at any depth.
pub async fn accounts_under(
    client: &Client,
    parents: &[String],
) -> Result<BTreeSet<String>, OrgError> {
    let mut found = BTreeSet::new();
    let mut queue: VecDeque<String> = parents.iter().cloned().collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some(parent) = queue.pop_front() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let accounts = all_pages("ListAccountsForParent", |token| {
            let parent = parent.clone();
            async move {
                let page = client
                    .list_accounts_for_parent()
                    .parent_id(parent)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(org_error("ListAccountsForParent"))?;
                let ids = page
                    .accounts()
                    .iter()
                    .filter_map(|a| a.id().map(str::to_string));
                Ok::<_, OrgError>(Page {
                    items: ids.collect(),
                    next: page.next_token().map(str::to_string),
                })
            }
        })
        .await?;
        found.extend(accounts);
        let children = all_pages("ListOrganizationalUnitsForParent", |token| {
            let parent = parent.clone();
            async move {
                let page = client
                    .list_organizational_units_for_parent()
                    .parent_id(parent)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(org_error("ListOrganizationalUnitsForParent"))?;
                let ids = page
                    .organizational_units()
                    .iter()
                    .filter_map(|ou| ou.id().map(str::to_string));
                Ok::<_, OrgError>(Page {
                    items: ids.collect(),
                    next: page.next_token().map(str::to_string),
                })
            }
        })
        .await?;
        queue.extend(children);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::scan::aws::replay::recorded;
    use aws_sdk_organizations::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::test_util::StaticReplayClient;

    fn client(bodies: &[&str]) -> (Client, StaticReplayClient) {
        let answers: Vec<(u16, &str)> = bodies.iter().map(|body| (200, *body)).collect();
        let http = recorded("https://organizations.us-east-1.amazonaws.com/", &answers);
        let config = aws_sdk_organizations::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKID", "secret", None, None, "recorded"))
            .http_client(http.clone())
            .build();
        (Client::from_conf(config), http)
    }

    /// A listing that loops must fail, not hang the test.
    async fn within_seconds<T>(listing: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), listing)
            .await
            .expect("the listing ended")
    }

    #[tokio::test]
    async fn lists_active_accounts_across_pages_including_empty_ones() {
        let (client, http) = client(&[
            r#"{"Organization":{"Id":"o-abc123","MasterAccountId":"111111111111"}}"#,
            r#"{"Accounts":[{"Id":"333333333333","Name":"c","State":"ACTIVE"},{"Id":"444444444444","Name":"gone","State":"SUSPENDED"}],"NextToken":"t1"}"#,
            r#"{"Accounts":[],"NextToken":"t2"}"#,
            r#"{"Accounts":[{"Id":"111111111111","Name":"mgmt","Status":"ACTIVE"},{"Id":"555555555555","Status":"PENDING_CLOSURE"}]}"#,
        ]);
        let org = describe(&client).await.expect("organization");
        assert_eq!(org.id, "o-abc123");
        assert_eq!(org.management_account, "111111111111");
        let ids: Vec<&str> = org.accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["111111111111", "333333333333"]);
        assert_eq!(http.actual_requests().count(), 4);
    }

    #[tokio::test]
    async fn ou_selection_walks_child_ous_at_any_depth() {
        let (client, _http) = client(&[
            // ou-a: one account, one child OU (on the second page)
            r#"{"Accounts":[{"Id":"222222222222"}]}"#,
            r#"{"OrganizationalUnits":[],"NextToken":"p2"}"#,
            r#"{"OrganizationalUnits":[{"Id":"ou-a-b"}]}"#,
            // ou-a-b: one account, no children
            r#"{"Accounts":[{"Id":"333333333333"}]}"#,
            r#"{"OrganizationalUnits":[]}"#,
        ]);
        let found = accounts_under(&client, &["ou-a".to_string()])
            .await
            .expect("accounts");
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        assert_eq!(found, ["222222222222", "333333333333"]);
    }

    #[tokio::test]
    async fn list_accounts_repeating_a_token_is_an_error_not_a_loop() {
        let (client, http) = client(&[
            r#"{"Organization":{"Id":"o-abc123","MasterAccountId":"111111111111"}}"#,
            r#"{"Accounts":[{"Id":"111111111111","State":"ACTIVE"}],"NextToken":"t1"}"#,
            r#"{"Accounts":[{"Id":"222222222222","State":"ACTIVE"}],"NextToken":"t1"}"#,
            r#"{"Accounts":[{"Id":"222222222222","State":"ACTIVE"}],"NextToken":"t1"}"#,
            r#"{"Accounts":[{"Id":"222222222222","State":"ACTIVE"}],"NextToken":"t1"}"#,
        ]);
        let err = within_seconds(describe(&client))
            .await
            .expect_err("a repeated token");
        assert_eq!(err.operation, "ListAccounts");
        assert_eq!(err.error.code.as_deref(), Some("PaginationError"));
        assert_eq!(
            err.to_string(),
            "organizations:ListAccounts failed: PaginationError: ListAccounts returned the same \
             pagination token twice; the listing may be incomplete"
        );
        // DescribeOrganization and two pages: the third would repeat the second.
        assert_eq!(http.actual_requests().count(), 3);
    }

    #[tokio::test]
    async fn list_accounts_for_parent_repeating_a_token_is_an_error_not_a_loop() {
        let (client, http) = client(&[
            r#"{"Accounts":[{"Id":"222222222222"}],"NextToken":"a1"}"#,
            r#"{"Accounts":[],"NextToken":"a2"}"#,
            r#"{"Accounts":[{"Id":"333333333333"}],"NextToken":"a1"}"#,
            r#"{"Accounts":[],"NextToken":"a2"}"#,
        ]);
        let err = within_seconds(accounts_under(&client, &["ou-a".to_string()]))
            .await
            .expect_err("a repeated token");
        assert_eq!(err.operation, "ListAccountsForParent");
        assert!(
            err.to_string().contains(
                "ListAccountsForParent returned the same pagination token twice; the listing \
                 may be incomplete"
            ),
            "{err}"
        );
        assert_eq!(http.actual_requests().count(), 3);
    }

    #[tokio::test]
    async fn list_ous_for_parent_repeating_a_token_is_an_error_not_a_loop() {
        let (client, http) = client(&[
            r#"{"Accounts":[{"Id":"222222222222"}]}"#,
            r#"{"OrganizationalUnits":[{"Id":"ou-a-b"}],"NextToken":"o1"}"#,
            r#"{"OrganizationalUnits":[{"Id":"ou-a-c"}],"NextToken":"o1"}"#,
            r#"{"OrganizationalUnits":[{"Id":"ou-a-c"}],"NextToken":"o1"}"#,
        ]);
        let err = within_seconds(accounts_under(&client, &["ou-a".to_string()]))
            .await
            .expect_err("a repeated token");
        assert_eq!(err.operation, "ListOrganizationalUnitsForParent");
        assert_eq!(err.error.code.as_deref(), Some("PaginationError"));
        assert!(
            err.to_string()
                .starts_with("organizations:ListOrganizationalUnitsForParent failed: "),
            "{err}"
        );
        assert_eq!(http.actual_requests().count(), 3);
    }
}
