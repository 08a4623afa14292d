//! Turns SDK errors into what a coverage gap needs: an AWS error code and one readable line.

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;

/// A failed AWS call, reduced to the facts a report records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The AWS error code (`AccessDeniedException`), or a transport class (`Timeout`, `ConnectionError`).
    pub code: Option<String>,
    pub message: String,
}

impl CallError {
    pub fn new(code: Option<&str>, message: impl Into<String>) -> Self {
        CallError {
            code: code.map(str::to_string),
            message: message.into(),
        }
    }

    /// True for errors that mean "these credentials are not valid in this region": what AWS answers
    /// in an opt-in region that the account has not enabled.
    pub fn is_region_not_enabled(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("UnrecognizedClientException" | "InvalidClientTokenId")
        )
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) if !self.message.contains(code.as_str()) => {
                write!(f, "{code}: {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl<E, R> From<SdkError<E, R>> for CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        CallError::from_sdk(&err)
    }
}

impl CallError {
    /// The code and message of an SDK error, without consuming it.
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> CallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        match err {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                let message = inner
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| DisplayErrorContext(inner).to_string());
                CallError::new(inner.code(), message)
            }
            SdkError::TimeoutError(_) => {
                CallError::new(Some("Timeout"), "the request timed out after retries")
            }
            SdkError::DispatchFailure(failure) => {
                let class = if failure.is_timeout() {
                    "Timeout"
                } else {
                    "ConnectionError"
                };
                CallError::new(
                    Some(class),
                    one_line(&DisplayErrorContext(&err).to_string()),
                )
            }
            _ => CallError::new(err.code(), one_line(&DisplayErrorContext(&err).to_string())),
        }
    }
}

/// An error and its sources as one line of Display texts (no Debug dumps), each said once.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// SDK error chains span several lines; a report field and a log line want one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
