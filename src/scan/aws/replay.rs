//! Recorded AWS answers for tests: what the emulator cannot show (several pages, throttling, a
//! paginator that never ends) replayed through the real SDK clients, in order.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;

/// An HTTP client that answers each request with the next recorded `(status, body)`. A body
/// with `"__type":"CODE"` is an error answer: its code also goes into `x-amzn-ErrorType`, as
/// AWS sends it.
pub fn recorded(uri: &str, answers: &[(u16, &str)]) -> StaticReplayClient {
    let events = answers
        .iter()
        .map(|(status, body)| {
            let request = http::Request::builder()
                .uri(uri)
                .body(SdkBody::empty())
                .expect("request");
            let mut response = http::Response::builder().status(*status);
            if let Some(code) = body
                .split("\"__type\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            {
                response = response.header("x-amzn-ErrorType", code);
            }
            ReplayEvent::new(
                request,
                response.body(SdkBody::from(*body)).expect("response"),
            )
        })
        .collect();
    StaticReplayClient::new(events)
}

/// The bodies of the requests a recorded client was sent, in order.
pub fn request_bodies(http: &StaticReplayClient) -> Vec<String> {
    http.actual_requests()
        .map(|r| String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned())
        .collect()
}
