//! Building AWS clients: credentials, endpoint, retries, timeouts and request counting.
//!
//! Everything that talks to AWS gets its client from here, so that every request is counted,
//! bounded in time, retried on throttling, and sent to the endpoint the user chose
//! (`--endpoint-url` or the SDK's `AWS_ENDPOINT_URL`, e.g. a local emulator).

pub mod calls;
pub mod credentials;
pub mod errors;
pub mod iam;
pub mod paginate;
pub mod profile;
pub mod reach;
#[cfg(test)]
pub mod replay;

use std::time::Duration;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls;

pub use calls::ApiCallCounter;
pub use errors::CallError;

/// Every AWS operation kms-audit ever sends. All of them only read (AssumeRole only obtains
/// credentials); a test checks a proxy's log of real scans against this list, and the IAM
/// policies in `examples/iam/` grant exactly these.
pub const OPERATIONS: &[&str] = &[
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "kms:ListKeys",
    "kms:ListAliases",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:ListGrants",
    "tag:GetResources",
    "iam:GetAccountAuthorizationDetails",
];

/// How kms-audit reaches AWS: chosen on the command line, shared by every client.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    /// The home region (`--region`): STS, the partition, Organizations. Else the SDK's
    /// (`AWS_REGION`, the profile's `region`); none at all is an error.
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Limit for opening a connection; also sets how long the first request may take (see
    /// [`reach`]).
    pub connect_timeout: Duration,
    /// Attempts per request, retries on throttling and 5xx included.
    pub max_attempts: u32,
    /// Limit for one attempt of one request.
    pub attempt_timeout: Duration,
    pub retry_mode: RetryMode,
}

/// How throttled and failed requests are retried.
///
/// Standard is the default: with kms-audit's per-account×region concurrency limit it already
/// stays well under KMS quotas, and measured against 30% throttling it finishes in seconds where
/// the SDK's adaptive limiter, which drops to a crawl after the first throttle at low request
/// rates, took two minutes for the same 13 keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RetryMode {
    /// Exponential backoff with jitter.
    #[default]
    Standard,
    /// Also a client-side rate limiter that slows an account×region down after AWS throttles it
    /// (the SDK's adaptive mode): gentlest on shared quotas, much slower when throttled.
    Adaptive,
}

#[derive(Debug, thiserror::Error)]
pub enum AwsSetupError {
    #[error("invalid --endpoint-url '{url}': {why}")]
    BadEndpoint { url: String, why: String },
    #[error(
        "no usable AWS credentials: {0}. Set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
    )]
    NoCredentials(String),
    #[error(
        "{flag} {profile}: no such profile in {files} ({known}); check the name, or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the files that define it"
    )]
    NoSuchProfile {
        profile: String,
        flag: String,
        files: String,
        known: String,
    },
    #[error("could not read the AWS profiles in {files}: {why}")]
    ProfileFiles { files: String, why: String },
    #[error(
        "the AWS SSO session of profile {profile} has expired: run `aws sso login --profile {profile}`, then try again"
    )]
    SsoExpired { profile: String },
    #[error(
        "profile {profile} uses AWS SSO and has no cached SSO login ({why}): run `aws sso login --profile {profile}`"
    )]
    SsoNotLoggedIn { profile: String, why: String },
    #[error(
        "no AWS region is set: pass --region (the home region, e.g. --region us-east-1), or set AWS_REGION, or `region` in the profile"
    )]
    NoRegion,
    #[error(
        "cannot reach the AWS endpoint {endpoint}: {why}. Check --endpoint-url / AWS_ENDPOINT_URL, the network, and any proxy (HTTPS_PROXY, NO_PROXY)"
    )]
    Unreachable { endpoint: String, why: String },
}

/// Checks an endpoint URL before any request is made, so a typo is a clear error, not a DNS timeout.
pub fn validate_endpoint_url(url: &str) -> Result<(), AwsSetupError> {
    let bad = |why: &str| AwsSetupError::BadEndpoint {
        url: url.to_string(),
        why: why.to_string(),
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| bad("it must start with http:// or https://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            if !port.is_empty() && port.parse::<u16>().is_err() {
                return Err(bad("the port is not a number between 0 and 65535"));
            }
            host
        }
        _ => authority,
    };
    if host.is_empty() {
        return Err(bad("it has no host name"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '@' | '?' | '#'))
    {
        return Err(bad(
            "the host name contains characters a URL host cannot have",
        ));
    }
    Ok(())
}

/// The HTTP client every AWS client uses: rustls with ring, one TLS stack that builds quickly
/// and needs no C toolchain beyond what ring compiles.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The profile the user named, and where: `--profile`, else `AWS_PROFILE`.
fn named_profile(options: &AwsOptions) -> Option<(String, &'static str)> {
    match &options.profile {
        Some(profile) => Some((profile.clone(), "--profile")),
        None => std::env::var("AWS_PROFILE")
            .ok()
            .filter(|p| !p.is_empty())
            .map(|p| (p, "AWS_PROFILE")),
    }
}

/// The profile whose settings apply, for messages: the named one, else `default`.
fn profile_in_use(options: &AwsOptions) -> String {
    named_profile(options).map_or_else(|| "default".to_string(), |(name, _)| name)
}

/// Loads the base configuration through the SDK's standard chain (env, profile, SSO, IMDS),
/// with kms-audit's HTTP client, retry and timeout settings.
///
/// Refused before any request: a named profile that does not exist, and no region at all (the
/// SDK has no default, and guessing us-east-1 would scan the wrong partition's regions).
/// `--profile` wins over credentials in the environment, as in the AWS CLI.
pub async fn load_base_config(options: &AwsOptions) -> Result<SdkConfig, AwsSetupError> {
    if let Some(url) = &options.endpoint_url {
        validate_endpoint_url(url)?;
    }
    if let Some((profile, flag)) = named_profile(options) {
        profile::check_profile_exists(&profile, flag).await?;
    }
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout)
        .operation_attempt_timeout(options.attempt_timeout)
        .operation_timeout(options.attempt_timeout * options.max_attempts.max(1) * 2)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(
            match options.retry_mode {
                RetryMode::Adaptive => RetryConfig::adaptive(),
                RetryMode::Standard => RetryConfig::standard(),
            }
            .with_max_attempts(options.max_attempts.max(1))
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_secs(20)),
        )
        // Every KMS answer is a small JSON body bounded by the per-attempt timeout below, so the
        // SDK's stalled-stream monitor (a throughput timer per request) only costs CPU here.
        .stalled_stream_protection(
            aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled(),
        )
        .timeout_config(timeouts.clone());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let Some(region) = config.region().cloned() else {
        return Err(AwsSetupError::NoRegion);
    };
    let Some(profile) = &options.profile else {
        return Ok(config);
    };
    let provider_config = ProviderConfig::without_region()
        .with_http_client(https_client())
        .with_region(Some(region))
        .with_timeout_config(timeouts);
    let provider = ProfileFileCredentialsProvider::builder()
        .configure(&provider_config)
        .profile_name(profile)
        .build();
    Ok(config
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build())
}

/// Fails fast, before any AWS request, when the credential chain yields nothing; logs (at info
/// level, `-v`) which credentials and home region the scan uses.
pub async fn check_credentials(
    config: &SdkConfig,
    options: &AwsOptions,
) -> Result<(), AwsSetupError> {
    let provider = config.credentials_provider().ok_or_else(|| {
        AwsSetupError::NoCredentials("no credential provider is configured".into())
    })?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|err| credentials_error(&err, options))?;
    let source = match &options.profile {
        Some(profile) => format!("profile {profile} (--profile)"),
        None => credentials_source(&provider_name(&credentials), options),
    };
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    tracing::info!(
        "AWS credentials from {source}; home region {region} (from {})",
        region_source(options)
    );
    Ok(())
}

/// A failed credential chain as the error a user can act on.
fn credentials_error(
    err: &aws_credential_types::provider::error::CredentialsError,
    options: &AwsOptions,
) -> AwsSetupError {
    let chain = errors::error_chain(err);
    let profile = profile_in_use(options);
    if chain.contains("SSO token has expired")
        || chain.contains("Session token not found or invalid")
    {
        AwsSetupError::SsoExpired { profile }
    } else if chain.contains("/.aws/sso/cache/") {
        AwsSetupError::SsoNotLoggedIn {
            profile,
            why: chain,
        }
    } else {
        AwsSetupError::NoCredentials(chain)
    }
}

/// The name of the provider that gave `credentials` ("EnvironmentVariable", "ProfileFile"...),
/// which the SDK shows only in their Debug form (the secret redacted).
fn provider_name(credentials: &aws_credential_types::Credentials) -> String {
    let debug = format!("{credentials:?}");
    debug
        .split_once("provider_name: \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(|| "unknown".to_string(), |(name, _)| name.to_string())
}

/// The SDK's name for a credentials provider, as a user knows it.
fn credentials_source(provider: &str, options: &AwsOptions) -> String {
    match provider {
        "EnvironmentVariable" => "the environment (AWS_ACCESS_KEY_ID)".to_string(),
        "ProfileFile" => format!(
            "profile {} of the AWS config files",
            profile_in_use(options)
        ),
        "WebIdentityToken" => "a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)".to_string(),
        "EcsContainer" => "the container credentials endpoint".to_string(),
        "IMDSv2" | "Ec2InstanceMetadata" => "the EC2 instance metadata service".to_string(),
        "Sso" => format!("AWS SSO (profile {})", profile_in_use(options)),
        other => format!("the {other} provider"),
    }
}

/// Where the home region came from, for the log.
fn region_source(options: &AwsOptions) -> String {
    if options.region.is_some() {
        return "--region".to_string();
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            return var.to_string();
        }
    }
    format!(
        "profile {} or the instance metadata",
        profile_in_use(options)
    )
}

/// A KMS client for one account and region, counting its requests.
///
/// Each account×region gets its own retry partition: KMS quotas are per account and region, so
/// the SDK's retry budget and adaptive rate limiter must be too (the default partition is shared
/// by every account in a region, and one throttled account would slow all the others down).
pub fn kms_client(
    base: &SdkConfig,
    account: &str,
    region: &str,
    counter: &ApiCallCounter,
) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::config::Builder::from(base)
        .region(Region::new(region.to_string()))
        .retry_partition(aws_sdk_kms::config::retry::RetryPartition::new(format!(
            "kms-audit-{account}-{region}"
        )))
        .interceptor(counter.clone())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// An STS client in the home region, counting its requests.
/// The Resource Groups Tagging API client for one account×region (the region's tag listing).
pub fn tagging_client(
    base: &SdkConfig,
    account: &str,
    region: &str,
    counter: &ApiCallCounter,
) -> aws_sdk_resourcegroupstagging::Client {
    let config = aws_sdk_resourcegroupstagging::config::Builder::from(base)
        .region(Region::new(region.to_string()))
        .retry_partition(
            aws_sdk_resourcegroupstagging::config::retry::RetryPartition::new(format!(
                "kms-audit-tagging-{account}-{region}"
            )),
        )
        .interceptor(counter.clone())
        .build();
    aws_sdk_resourcegroupstagging::Client::from_conf(config)
}

pub fn sts_client(base: &SdkConfig, counter: &ApiCallCounter) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::config::Builder::from(base)
        .interceptor(counter.clone())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// An Organizations client in the partition's Organizations region, counting its requests.
pub fn organizations_client(
    base: &SdkConfig,
    counter: &ApiCallCounter,
    region: &str,
) -> aws_sdk_organizations::Client {
    let config = aws_sdk_organizations::config::Builder::from(base)
        .region(Region::new(region.to_string()))
        .interceptor(counter.clone())
        .build();
    aws_sdk_organizations::Client::from_conf(config)
}
