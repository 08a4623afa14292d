//! The first request of a scan, `sts:GetCallerIdentity`, doubles as a reachability check: it
//! gets a short time limit of its own, so that an endpoint nothing listens on, a listener that
//! never answers, or a proxy that swallows requests is one clear line within seconds, not a
//! scan that retries for minutes with nothing printed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::error::SdkError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use super::{ApiCallCounter, AwsOptions, AwsSetupError, CallError};

/// Attempts of the first request: a dropped connection is retried, quickly.
const FIRST_REQUEST_ATTEMPTS: u32 = 3;

/// How long the first request may take, every attempt included: the connect timeout, plus 5 s
/// for the endpoint to answer (STS answers in well under a second).
pub fn first_answer_limit(connect_timeout: Duration) -> Duration {
    connect_timeout + Duration::from_secs(5)
}

/// Why the caller could not be identified.
#[derive(Debug)]
pub enum IdentityError {
    /// The endpoint did not answer at all.
    Unreachable(AwsSetupError),
    /// It answered with an error (credentials refused, access denied...).
    Call(CallError),
}

/// The caller's account id, from `sts:GetCallerIdentity` sent under the reachability limits.
pub async fn caller_identity(
    base: &SdkConfig,
    counter: &ApiCallCounter,
    options: &AwsOptions,
) -> Result<String, IdentityError> {
    let limit = first_answer_limit(options.connect_timeout);
    let seen = SeenEndpoint::default();
    let config = aws_sdk_sts::config::Builder::from(base)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(FIRST_REQUEST_ATTEMPTS.min(options.max_attempts.max(1)))
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(1)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(options.connect_timeout)
                .operation_attempt_timeout(limit)
                .operation_timeout(limit)
                .build(),
        )
        .interceptor(counter.clone())
        .interceptor(seen.clone())
        .build();
    let identity = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|err| {
            let endpoint = seen
                .get()
                .or_else(|| options.endpoint_url.clone())
                .unwrap_or_else(|| "the STS endpoint".to_string());
            classify(&err, &endpoint, options.connect_timeout, limit)
        })?;
    identity
        .account()
        .map(str::to_string)
        .ok_or_else(|| IdentityError::Call(CallError::new(None, "the response named no account")))
}

/// Transport failures are `Unreachable`, with what to check; answers are `Call` errors.
fn classify<E, R>(
    err: &SdkError<E, R>,
    endpoint: &str,
    connect_timeout: Duration,
    limit: Duration,
) -> IdentityError
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let why = match err {
        SdkError::TimeoutError(_) => format!(
            "it did not answer within {} s (sts:GetCallerIdentity)",
            limit.as_secs()
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => format!(
            "could not connect within {} s (--connect-timeout)",
            connect_timeout.as_secs()
        ),
        SdkError::DispatchFailure(_) => format!("could not connect: {}", innermost(err)),
        SdkError::ResponseError(_) => format!(
            "its answer is not an AWS API response ({}); is it an AWS endpoint?",
            innermost(err)
        ),
        _ => return IdentityError::Call(CallError::from_sdk(err)),
    };
    IdentityError::Unreachable(AwsSetupError::Unreachable {
        endpoint: endpoint.to_string(),
        why,
    })
}

/// The deepest cause of an error, where the useful words are ("Connection refused (os error
/// 111)", "dns error: failed to lookup address information").
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(source) = current.source() {
        current = source;
    }
    super::errors::error_chain(current)
}

/// Remembers where the request went (scheme, host, port), for the error message.
#[derive(Debug, Clone, Default)]
struct SeenEndpoint(Arc<Mutex<Option<String>>>);

impl SeenEndpoint {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|seen| seen.clone())
    }
}

impl Intercept for SeenEndpoint {
    fn name(&self) -> &'static str {
        "kms-audit-seen-endpoint"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        // The origin only: a path or query adds nothing a user would check.
        let origin = match uri.find("://") {
            Some(scheme_end) => {
                let rest = &uri[scheme_end + 3..];
                let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
                &uri[..scheme_end + 3 + host_end]
            }
            None => uri,
        };
        if let Ok(mut seen) = self.0.lock() {
            *seen = Some(origin.to_string());
        }
        Ok(())
    }
}
