//! Credentials per account: the caller's own, or an assumed role that refreshes during long scans.
//!
//! Every region client of an account shares one [`RoleCredentials`], so an account costs one
//! `sts:AssumeRole` per credential lifetime, not one per region (STS quotas are low).

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::{ApiCallCounter, CallError};

/// Refresh assumed credentials this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How to reach one account.
#[derive(Debug, Clone)]
pub struct RoleToAssume {
    pub role_arn: String,
    pub external_id: Option<String>,
    /// Shows in the account's CloudTrail as `assumed-role/<role>/<session>`.
    pub session_name: String,
}

/// An assumed role's credentials, fetched once and refreshed shortly before they expire.
#[derive(Debug)]
pub struct RoleCredentials {
    provider: AssumeRoleProvider,
    cached: tokio::sync::Mutex<Option<Credentials>>,
    counter: ApiCallCounter,
}

impl RoleCredentials {
    async fn current(&self) -> provider::Result {
        // Holding the lock while refreshing makes concurrent callers wait for one AssumeRole.
        let mut cached = self.cached.lock().await;
        if let Some(credentials) = cached.as_ref() {
            let fresh = credentials
                .expiry()
                .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_MARGIN);
            if fresh {
                return Ok(credentials.clone());
            }
        }
        self.counter.record("sts:AssumeRole".to_string());
        let credentials = self.provider.provide_credentials().await?;
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

impl ProvideCredentials for RoleCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.current())
    }
}

/// The configuration for an account reached through `role`: assumes it once now, so a role
/// that cannot be assumed is one clear error for the whole account, before any KMS call.
pub async fn assume_role(
    base: &SdkConfig,
    role: &RoleToAssume,
    counter: &ApiCallCounter,
) -> Result<SdkConfig, CallError> {
    let mut builder = AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(role.session_name.clone())
        .configure(base);
    if let Some(external_id) = &role.external_id {
        builder = builder.external_id(external_id.clone());
    }
    let credentials = RoleCredentials {
        provider: builder.build().await,
        cached: tokio::sync::Mutex::new(None),
        counter: counter.clone(),
    };
    credentials
        .current()
        .await
        .map_err(|err| assume_role_error(&err))?;
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build())
}

/// The STS error code and message behind a failed AssumeRole, when there is one.
fn assume_role_error(err: &aws_credential_types::provider::error::CredentialsError) -> CallError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(sdk) =
            current.downcast_ref::<aws_sdk_sts::error::SdkError<AssumeRoleError, HttpResponse>>()
        {
            return CallError::from_sdk(sdk);
        }
        source = current.source();
    }
    CallError::new(None, super::errors::error_chain(err))
}
