//! Collection against recorded KMS and tag-listing responses: what the emulator cannot show
//! (several pages, throttling, rotation periods, an endless paginator) replayed through the real
//! SDK clients.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::StaticReplayClient;
use tokio::sync::Semaphore;

use super::{Gate, TargetScan, key, list_aliases, list_keys, tags};
use crate::model::regions::lookup;
use crate::scan::aws::replay::{recorded, request_bodies};

fn scan_with(responses: &[(u16, &str)]) -> (TargetScan, StaticReplayClient) {
    let http = recorded("https://kms.us-east-1.amazonaws.com/", responses);
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "secret", None, None, "recorded"))
        .http_client(http.clone())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    // The tag listing replays from the same recording, in order.
    let tagging = aws_sdk_resourcegroupstagging::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "secret", None, None, "recorded"))
        .http_client(http.clone())
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .build();
    let scan = TargetScan {
        account: "111111111111".into(),
        region: lookup("us-east-1").expect("region"),
        client: aws_sdk_kms::Client::from_conf(config),
        tagging: aws_sdk_resourcegroupstagging::Client::from_conf(tagging),
        gate: Gate::new(
            Arc::new(Semaphore::new(4)),
            2,
            super::pace::Pacer::unlimited(),
        ),
        key_concurrency: 1,
        progress: Default::default(),
    };
    (scan, http)
}

const ARN: &str = "arn:aws:kms:us-east-1:111111111111:key/k1";

#[tokio::test]
async fn list_keys_follows_markers_across_pages() {
    let (scan, http) = scan_with(&[
        (
            200,
            r#"{"Keys":[{"KeyId":"k1","KeyArn":"arn:k1"},{"KeyId":"k2","KeyArn":"arn:k2"}],"Truncated":true,"NextMarker":"m1"}"#,
        ),
        (200, r#"{"Keys":[],"Truncated":true,"NextMarker":"m2"}"#),
        (
            200,
            r#"{"Keys":[{"KeyId":"k3","KeyArn":"arn:k3"}],"Truncated":false}"#,
        ),
    ]);
    let keys = list_keys(&scan).await.expect("listing");
    let ids: Vec<&str> = keys.iter().map(|(id, _)| id.as_str()).collect();
    // An empty page that is still truncated is not the end.
    assert_eq!(ids, ["k1", "k2", "k3"]);
    let sent = request_bodies(&http);
    assert_eq!(sent.len(), 3);
    assert!(!sent[0].contains("Marker"), "{}", sent[0]);
    assert!(sent[1].contains(r#""Marker":"m1""#), "{}", sent[1]);
    assert!(sent[2].contains(r#""Marker":"m2""#), "{}", sent[2]);
    assert!(sent[0].contains(r#""Limit":1000"#), "{}", sent[0]);
}

#[tokio::test]
async fn list_keys_that_never_advance_is_an_error_not_a_loop() {
    let (scan, _http) = scan_with(&[
        (
            200,
            r#"{"Keys":[{"KeyId":"k1","KeyArn":"arn:k1"}],"Truncated":true,"NextMarker":"m1"}"#,
        ),
        (
            200,
            r#"{"Keys":[{"KeyId":"k1","KeyArn":"arn:k1"}],"Truncated":true,"NextMarker":"m1"}"#,
        ),
    ]);
    let err = within_seconds(list_keys(&scan))
        .await
        .expect_err("no progress");
    assert_eq!(err.code.as_deref(), Some("PaginationError"));
    assert_eq!(
        err.message,
        "ListKeys returned the same pagination token twice; the listing may be incomplete"
    );
}

#[tokio::test]
async fn a_truncated_page_without_a_marker_is_an_error_not_the_end() {
    let (scan, http) = scan_with(&[(
        200,
        r#"{"Aliases":[{"AliasName":"alias/a","TargetKeyId":"k1"}],"Truncated":true}"#,
    )]);
    let err = within_seconds(list_aliases(&scan))
        .await
        .expect_err("no marker");
    assert_eq!(err.code.as_deref(), Some("PaginationError"));
    assert_eq!(
        err.message,
        "the response was truncated but gave no new marker; the listing may be incomplete"
    );
    assert_eq!(http.actual_requests().count(), 1);
}

#[tokio::test]
async fn grants_whose_markers_come_round_again_are_an_error_not_a_loop() {
    let page = |next: &str| {
        format!(
            r#"{{"Grants":[{{"GrantId":"g-{next}","Operations":[]}}],"Truncated":true,"NextMarker":"{next}"}}"#
        )
    };
    let (first, second) = (page("m1"), page("m2"));
    // m1 → m2 → m1: not the previous marker, but one seen before.
    let (scan, http) = scan_with(&[
        (200, first.as_str()),
        (200, second.as_str()),
        (200, first.as_str()),
        (200, second.as_str()),
    ]);
    let err = within_seconds(key::read_grants(&scan, ARN))
        .await
        .expect_err("a cycle");
    assert_eq!(
        err.message,
        "ListGrants returned the same pagination token twice; the listing may be incomplete"
    );
    assert_eq!(http.actual_requests().count(), 3);
}

/// A listing that loops must fail, not hang the test.
async fn within_seconds<T>(listing: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), listing)
        .await
        .expect("the listing ended")
}

#[tokio::test]
async fn throttling_is_retried_until_it_succeeds() {
    let (scan, http) = scan_with(&[
        (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        (
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        (
            200,
            r#"{"Keys":[{"KeyId":"k1","KeyArn":"arn:k1"}],"Truncated":false}"#,
        ),
    ]);
    let keys = list_keys(&scan).await.expect("retried");
    assert_eq!(keys.len(), 1);
    assert_eq!(http.actual_requests().count(), 3);
}

#[tokio::test]
async fn throttling_beyond_the_attempt_budget_is_reported_with_its_code() {
    let throttled = (
        400,
        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
    );
    let (scan, _http) = scan_with(&[throttled, throttled, throttled]);
    let err = list_keys(&scan).await.expect_err("gave up");
    assert_eq!(err.code.as_deref(), Some("ThrottlingException"));
    assert_eq!(err.to_string(), "ThrottlingException: Rate exceeded");
}

#[tokio::test]
async fn aliases_are_grouped_by_key_and_predefined_aliases_without_a_key_are_dropped() {
    let (scan, _http) = scan_with(&[
        (
            200,
            r#"{"Aliases":[{"AliasName":"alias/b","TargetKeyId":"k1"},{"AliasName":"alias/aws/s3"}],"Truncated":true,"NextMarker":"a1"}"#,
        ),
        (
            200,
            r#"{"Aliases":[{"AliasName":"alias/a","TargetKeyId":"k1"},{"AliasName":"alias/c","TargetKeyId":"k2"}],"Truncated":false}"#,
        ),
    ]);
    let aliases = list_aliases(&scan).await.expect("aliases");
    assert_eq!(aliases.len(), 2);
    assert_eq!(aliases["k1"], ["alias/a", "alias/b"]);
    assert_eq!(aliases["k2"], ["alias/c"]);
}

#[tokio::test]
async fn rotation_period_and_next_date_are_read() {
    let (scan, _http) = scan_with(&[(
        200,
        r#"{"KeyId":"arn","KeyRotationEnabled":true,"RotationPeriodInDays":180,"NextRotationDate":1798761600}"#,
    )]);
    let rotation = key::read_rotation(&scan, ARN).await.expect("rotation");
    assert!(rotation.enabled);
    assert_eq!(rotation.period_days, Some(180));
    assert_eq!(
        rotation.next_rotation_date.as_deref(),
        Some("2027-01-01T00:00:00Z")
    );
}

#[tokio::test]
async fn disabled_rotation_has_no_period() {
    let (scan, _http) = scan_with(&[(200, r#"{"KeyRotationEnabled":false}"#)]);
    let rotation = key::read_rotation(&scan, ARN).await.expect("rotation");
    assert!(!rotation.enabled);
    assert_eq!(rotation.period_days, None);
    assert_eq!(rotation.next_rotation_date, None);
}

#[tokio::test]
async fn tags_and_grants_are_read_across_pages() {
    let (scan, http) = scan_with(&[
        (
            200,
            r#"{"Tags":[{"TagKey":"team","TagValue":"pay"}],"Truncated":true,"NextMarker":"t1"}"#,
        ),
        (
            200,
            r#"{"Tags":[{"TagKey":"env","TagValue":"prod"}],"Truncated":false}"#,
        ),
    ]);
    let tags = tags::read_tags(&scan, ARN).await.expect("tags");
    assert_eq!(tags.len(), 2);
    assert_eq!(&tags["env"], "prod");
    assert!(request_bodies(&http)[1].contains(r#""Marker":"t1""#));

    let (scan, _http) = scan_with(&[(
        200,
        r#"{"Grants":[{"GrantId":"g2","GranteePrincipal":"arn:aws:iam::999999999999:root","Operations":["Decrypt"],"IssuingAccount":"arn:aws:iam::111111111111:root","CreationDate":1798761600},{"GrantId":"g1","Operations":[]}],"Truncated":false}"#,
    )]);
    let grants = key::read_grants(&scan, ARN).await.expect("grants");
    let ids: Vec<&str> = grants.iter().map(|g| g.grant_id.as_str()).collect();
    assert_eq!(ids, ["g1", "g2"]);
    assert_eq!(grants[1].operations, ["Decrypt"]);
    assert_eq!(
        grants[1].creation_date.as_deref(),
        Some("2027-01-01T00:00:00Z")
    );
}

#[tokio::test]
async fn the_tag_listing_follows_pagination_tokens_and_keeps_only_tagged_keys() {
    let (scan, http) = scan_with(&[
        (
            200,
            r#"{"PaginationToken":"p2","ResourceTagMappingList":[{"ResourceARN":"arn:aws:kms:us-east-1:111111111111:key/a","Tags":[{"Key":"team","Value":"pay"}]},{"ResourceARN":"arn:aws:kms:us-east-1:111111111111:key/b","Tags":[]}]}"#,
        ),
        (
            200,
            r#"{"PaginationToken":"","ResourceTagMappingList":[{"ResourceARN":"arn:aws:kms:us-east-1:111111111111:key/c","Tags":[{"Key":"env","Value":"prod"},{"Key":"owner","Value":"ann"}]}]}"#,
        ),
    ]);
    let listed = tags::list_tagged_keys(&scan).await.expect("listing");
    let mut arns: Vec<&str> = listed.keys().map(String::as_str).collect();
    arns.sort();
    // key/b had tags once and has none now: it is asked directly, like an unlisted key.
    assert_eq!(
        arns,
        [
            "arn:aws:kms:us-east-1:111111111111:key/a",
            "arn:aws:kms:us-east-1:111111111111:key/c"
        ]
    );
    assert_eq!(
        &listed["arn:aws:kms:us-east-1:111111111111:key/c"]["owner"],
        "ann"
    );
    let sent = request_bodies(&http);
    assert!(
        sent[0].contains(r#""ResourceTypeFilters":["kms:key"]"#),
        "{}",
        sent[0]
    );
    assert!(sent[1].contains(r#""PaginationToken":"p2""#), "{}", sent[1]);

    let (scan, _http) = scan_with(&[
        (
            200,
            r#"{"PaginationToken":"same","ResourceTagMappingList":[]}"#,
        ),
        (
            200,
            r#"{"PaginationToken":"same","ResourceTagMappingList":[]}"#,
        ),
    ]);
    let err = within_seconds(tags::list_tagged_keys(&scan))
        .await
        .expect_err("a repeated token");
    assert_eq!(err.code.as_deref(), Some("PaginationError"));
    assert_eq!(
        err.message,
        "GetResources returned the same pagination token twice; the listing may be incomplete"
    );
}

#[tokio::test]
async fn a_tag_listing_whose_tokens_come_round_again_is_an_error_not_a_loop() {
    let page = |next: &str| {
        format!(
            r#"{{"PaginationToken":"{next}","ResourceTagMappingList":[{{"ResourceARN":"arn:aws:kms:us-east-1:111111111111:key/{next}","Tags":[{{"Key":"team","Value":"pay"}}]}}]}}"#
        )
    };
    let (a, b) = (page("a"), page("b"));
    let (scan, http) = scan_with(&[
        (200, a.as_str()),
        (200, b.as_str()),
        (200, a.as_str()),
        (200, b.as_str()),
        (200, a.as_str()),
    ]);
    let err = within_seconds(tags::list_tagged_keys(&scan))
        .await
        .expect_err("a cycle");
    assert_eq!(err.code.as_deref(), Some("PaginationError"));
    assert!(err.message.starts_with("GetResources "), "{}", err.message);
    let sent = request_bodies(&http);
    assert_eq!(sent.len(), 3);
    assert!(sent[2].contains(r#""PaginationToken":"b""#), "{}", sent[2]);
}

#[tokio::test]
async fn a_policy_that_is_not_json_is_kept_verbatim() {
    let (scan, _http) = scan_with(&[(200, r#"{"Policy":"not json","PolicyName":"default"}"#)]);
    let policy = key::read_policy(&scan, ARN).await.expect("policy");
    assert_eq!(
        policy.to_value(),
        serde_json::Value::String("not json".into())
    );
}
