//! IAM's `GetAccountAuthorizationDetails`, read once per account: every user, group, role and
//! managed policy with its documents, in a few paginated calls.
//!
//! Sent by hand like `publish securityhub`: a Query-protocol `POST` SigV4-signed with
//! `aws-sigv4` through the same rustls connector, its XML read with the SDK's own
//! `aws-smithy-xml`. The generated IAM SDK would add its whole model to every clean build for
//! one read-only operation.
//!
//! IAM is global: one endpoint per partition (`iam.amazonaws.com`, signed for `us-east-1`), or
//! the endpoint override (`AWS_ENDPOINT_URL_IAM`, `--endpoint-url`, `AWS_ENDPOINT_URL`) for the
//! emulator. Pagination stops when `IsTruncated` is false; an endpoint that sends a `Marker` it
//! sent before (or never stops) is an error, not an endless loop. A denied read is
//! [`IamError::Denied`], which the caller records as a coverage gap.

mod xml;

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_http_client::{Connector, tls};
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::{ApiCallCounter, CallError};
use crate::model::iam::AccountAuthorizationDetails;

pub use xml::{ErrorBody, Page, parse_error, parse_page, url_decoded};

pub use crate::model::iam::OPERATION;

/// Items per page (IAM's maximum).
const MAX_ITEMS: u32 = 1000;

/// A guard against an endpoint that never says it is done: 10,000 pages of 1,000 items is
/// far beyond IAM's own quotas (5,000 roles, 5,000 users, 1,500 policies per account).
const MAX_PAGES: usize = 10_000;

/// An answer larger than this is refused before it is read (IAM's pages are a few MB).
const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// Why the account's IAM details could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// The role may not call `iam:GetAccountAuthorizationDetails`: a coverage gap.
    #[error("iam:GetAccountAuthorizationDetails was denied: {0}")]
    Denied(CallError),
    #[error("iam:GetAccountAuthorizationDetails failed: {0}")]
    Failed(CallError),
    #[error("IAM's answer is not a GetAccountAuthorizationDetails result: {0}")]
    InvalidResponse(String),
    #[error(
        "IAM sent a Marker it had sent before (page {page}): the pages would never end, so the read stopped"
    )]
    RepeatedMarker { page: usize },
    #[error("IAM was still truncating its answer after {pages} pages; the read stopped")]
    TooManyPages { pages: usize },
}

impl IamError {
    /// The code a coverage gap records: the AWS error code, else the failure's class.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            IamError::Denied(err) | IamError::Failed(err) => err.code.as_deref(),
            IamError::InvalidResponse(_) => Some("InvalidResponse"),
            IamError::RepeatedMarker { .. } => Some("RepeatedMarker"),
            IamError::TooManyPages { .. } => Some("TooManyPages"),
        }
    }

    pub fn is_denied(&self) -> bool {
        matches!(self, IamError::Denied(_))
    }
}

/// How requests reach IAM: one connection pool for every account.
pub struct IamClient {
    connector: Connector,
    /// The endpoint override; otherwise the partition's global endpoint.
    endpoint: Option<String>,
    max_attempts: u32,
    attempt_timeout: Duration,
    counter: ApiCallCounter,
}

/// `AWS_ENDPOINT_URL_IAM`, else `--endpoint-url`, else the SDK's `AWS_ENDPOINT_URL`.
pub fn endpoint_override(
    endpoint_url: Option<&str>,
    base: &aws_config::SdkConfig,
) -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL_IAM")
        .ok()
        .filter(|url| !url.is_empty())
        .or_else(|| endpoint_url.map(str::to_string))
        .or_else(|| base.endpoint_url().map(str::to_string))
}

/// The global endpoint and signing region of the partition `home_region` belongs to.
pub fn global_endpoint(home_region: &str) -> (&'static str, &'static str) {
    if home_region.starts_with("cn-") {
        ("https://iam.cn-north-1.amazonaws.com.cn/", "cn-north-1")
    } else if home_region.starts_with("us-gov-") {
        ("https://iam.us-gov.amazonaws.com/", "us-gov-west-1")
    } else {
        ("https://iam.amazonaws.com/", "us-east-1")
    }
}

impl IamClient {
    pub fn new(
        base: &aws_config::SdkConfig,
        endpoint: Option<String>,
        max_attempts: u32,
        attempt_timeout: Duration,
        counter: ApiCallCounter,
    ) -> IamClient {
        let mut builder = Connector::builder().connector_settings(
            HttpConnectorSettings::builder()
                .connect_timeout(Duration::from_secs(5))
                .read_timeout(attempt_timeout)
                .build(),
        );
        if let Some(sleep) = base.sleep_impl() {
            builder = builder.sleep_impl(sleep);
        }
        let connector = builder
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build();
        IamClient {
            connector,
            endpoint: endpoint.map(|url| format!("{}/", url.trim_end_matches('/'))),
            max_attempts: max_attempts.max(1),
            attempt_timeout,
            counter,
        }
    }

    /// The URL requests go to and the region they are signed for.
    pub fn target(&self, home_region: &str) -> (String, &'static str) {
        let (url, region) = global_endpoint(home_region);
        (
            self.endpoint.clone().unwrap_or_else(|| url.to_string()),
            region,
        )
    }

    /// Reads every page of the account's authorization details.
    pub async fn account_authorization_details(
        &self,
        credentials: &SharedCredentialsProvider,
        account: &str,
        home_region: &str,
    ) -> Result<AccountAuthorizationDetails, IamError> {
        let (url, region) = self.target(home_region);
        let mut details = read_pages(|marker| {
            let url = url.clone();
            async move {
                self.page(credentials, region, &url, marker.as_deref())
                    .await
            }
        })
        .await?;
        details.account = account.to_string();
        Ok(details)
    }

    /// One page, retrying what can be retried.
    async fn page(
        &self,
        credentials: &SharedCredentialsProvider,
        region: &str,
        url: &str,
        marker: Option<&str>,
    ) -> Result<Page, IamError> {
        let body = request_body(marker);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.counter.record(format!("iam:{OPERATION}"));
            let outcome = tokio::time::timeout(
                self.attempt_timeout,
                self.attempt(credentials, region, url, body.as_bytes()),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Attempt::Retryable(CallError::new(
                    Some("Timeout"),
                    format!("no answer within {} s", self.attempt_timeout.as_secs()),
                )))
            });
            match outcome {
                Ok(page) => return Ok(page),
                Err(Attempt::Final(err)) => return Err(err),
                Err(Attempt::Retryable(err)) if attempt >= self.max_attempts => {
                    return Err(IamError::Failed(CallError::new(
                        err.code.as_deref(),
                        format!("{} (after {attempt} attempts)", err.message),
                    )));
                }
                Err(Attempt::Retryable(err)) => {
                    let delay = backoff(attempt);
                    tracing::debug!("{OPERATION}: {err}; retrying in {} ms", delay.as_millis());
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        credentials: &SharedCredentialsProvider,
        region: &str,
        url: &str,
        body: &[u8],
    ) -> Result<Page, Attempt> {
        let credentials = credentials.provide_credentials().await.map_err(|err| {
            Attempt::Final(IamError::Failed(CallError::new(
                Some("CredentialsError"),
                super::errors::error_chain(&err),
            )))
        })?;
        let request = signed_request(&credentials.into(), region, url, body).map_err(|why| {
            Attempt::Final(IamError::Failed(CallError::new(Some("SigningError"), why)))
        })?;
        let response = self.connector.call(request).await.map_err(|err| {
            let class = if err.is_timeout() {
                "Timeout"
            } else {
                "ConnectionError"
            };
            Attempt::Retryable(CallError::new(
                Some(class),
                super::errors::error_chain(&err),
            ))
        })?;
        let status = response.status().as_u16();
        let length = response
            .headers()
            .get("content-length")
            .and_then(|v| v.parse::<u64>().ok());
        if length.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(Attempt::Final(IamError::InvalidResponse(format!(
                "an answer of {} bytes is larger than the {MAX_BODY_BYTES} kms-audit reads",
                length.unwrap_or_default()
            ))));
        }
        let bytes = ByteStream::new(response.into_body())
            .collect()
            .await
            .map_err(|err| {
                Attempt::Retryable(CallError::new(
                    Some("ConnectionError"),
                    super::errors::error_chain(&err),
                ))
            })?
            .into_bytes();
        let text = String::from_utf8_lossy(&bytes);
        if (200..300).contains(&status) {
            return parse_page(&text).map_err(|why| Attempt::Final(IamError::InvalidResponse(why)));
        }
        Err(classify(status, &parse_error(&text)))
    }
}

/// A failed call by its status and error code: retried, denied or failed.
fn classify(status: u16, error: &ErrorBody) -> Attempt {
    let code = error
        .code
        .clone()
        .unwrap_or_else(|| format!("HTTP{status}"));
    let message = error
        .message
        .as_deref()
        .map(one_line)
        .unwrap_or_else(|| format!("HTTP {status}"));
    let err = CallError::new(Some(&code), message);
    if is_retryable(status, &code) {
        Attempt::Retryable(err)
    } else if is_denied(&code) {
        Attempt::Final(IamError::Denied(err))
    } else {
        Attempt::Final(IamError::Failed(err))
    }
}

enum Attempt {
    Retryable(CallError),
    Final(IamError),
}

/// Fetches pages until one says it is the last. `fetch` gets the Marker of the page to read
/// (`None` for the first).
pub async fn read_pages<F, Fut>(fetch: F) -> Result<AccountAuthorizationDetails, IamError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page, IamError>>,
{
    read_at_most(MAX_PAGES, fetch).await
}

async fn read_at_most<F, Fut>(
    max_pages: usize,
    mut fetch: F,
) -> Result<AccountAuthorizationDetails, IamError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page, IamError>>,
{
    let mut details = AccountAuthorizationDetails::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut marker = None;
    for page_number in 1..=max_pages {
        let page = fetch(marker.take()).await?;
        details.extend(page.details);
        if !page.is_truncated {
            return Ok(details);
        }
        let next = page.marker.ok_or_else(|| {
            IamError::InvalidResponse("IsTruncated is true but there is no Marker".into())
        })?;
        if !seen.insert(next.clone()) {
            return Err(IamError::RepeatedMarker { page: page_number });
        }
        marker = Some(next);
    }
    Err(IamError::TooManyPages { pages: max_pages })
}

/// The form-encoded Query request for one page.
fn request_body(marker: Option<&str>) -> String {
    let mut body = format!("Action={OPERATION}&Version=2010-05-08&MaxItems={MAX_ITEMS}");
    if let Some(marker) = marker {
        body.push_str("&Marker=");
        body.extend(utf8_percent_encode(marker, NON_ALPHANUMERIC));
    }
    body
}

/// A SigV4-signed `POST` of `body` to `url`.
fn signed_request(
    identity: &Identity,
    region: &str,
    url: &str,
    body: &[u8],
) -> Result<HttpRequest, String> {
    const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("iam")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|err| err.to_string())?
        .into();
    let headers = [("content-type", CONTENT_TYPE)];
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|err| err.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|err| err.to_string())?
        .into_parts();
    let mut request = HttpRequest::new(SdkBody::from(body.to_vec()));
    request.set_method("POST").map_err(|err| err.to_string())?;
    request.set_uri(url).map_err(|err| err.to_string())?;
    let (signed_headers, _params) = instructions.into_parts();
    let request_headers = request.headers_mut();
    request_headers.insert("content-type", CONTENT_TYPE);
    request_headers.insert("content-length", body.len().to_string());
    for header in signed_headers {
        request_headers.insert(header.name(), header.value().to_string());
    }
    Ok(request)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// IAM's answers for a caller without the permission.
fn is_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
    )
}

/// Throttling and server-side failures; the SDK's standard retry classes.
fn is_retryable(status: u16, code: &str) -> bool {
    status == 429
        || status >= 500
        || matches!(
            code,
            "Throttling"
                | "ThrottlingException"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "ServiceFailure"
                | "ServiceUnavailable"
                | "InternalFailure"
        )
}

/// Full jitter: a random delay up to 100 ms × 2^(attempt−1), capped at 20 s.
fn backoff(attempt: u32) -> Duration {
    let ceiling = (0.1 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(20.0);
    Duration::from_secs_f64(ceiling * fastrand::f64())
}

#[cfg(test)]
mod tests;
