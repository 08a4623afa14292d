//! The IAM reader on recorded answers (tests/fixtures/iam/): the emulator's, an answer in two
//! pages, an error; and the pagination guard.

use std::cell::RefCell;
use std::path::PathBuf;

use super::*;
use crate::policy::IdentityPolicy;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/iam")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| name(i).to_string()).collect()
}

#[test]
fn the_emulator_answer_parses() {
    let page = parse_page(&fixture("moto-5.2.5.xml")).expect("parses");
    assert!(!page.is_truncated);
    assert_eq!(page.marker, None);
    let d = &page.details;
    let [alice] = d.users.as_slice() else {
        panic!("users: {:?}", d.users)
    };
    assert_eq!(alice.name, "alice");
    assert_eq!(alice.arn, "arn:aws:iam::123456789012:user/alice");
    assert_eq!(alice.groups, ["admins"]);
    assert_eq!(names(&alice.inline_policies, |p| &p.name), ["inline-kms"]);
    assert!(alice.attached_policies.is_empty());
    assert!(
        alice.inline_policies[0].document.starts_with(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*""#
        ),
        "{}",
        alice.inline_policies[0].document
    );
    let [admins] = d.groups.as_slice() else {
        panic!("groups: {:?}", d.groups)
    };
    assert_eq!(
        names(&admins.inline_policies, |p| &p.name),
        ["group-inline"]
    );
    assert_eq!(
        names(&admins.attached_policies, |p| &p.arn),
        ["arn:aws:iam::123456789012:policy/everything-but-iam"]
    );
    let [app] = d.roles.as_slice() else {
        panic!("roles: {:?}", d.roles)
    };
    assert_eq!(app.name, "app");
    assert_eq!(names(&app.inline_policies, |p| &p.name), ["deny-sign"]);
    assert_eq!(
        app.permissions_boundary.as_deref(),
        Some("arn:aws:iam::123456789012:policy/everything-but-iam")
    );
    // The emulator gives no PolicyName: it comes from the ARN.
    assert_eq!(
        names(&d.policies, |p| &p.name),
        ["everything-but-iam", "kms-decrypt-all"]
    );
    let decrypt = d
        .policy("arn:aws:iam::123456789012:policy/kms-decrypt-all")
        .expect("listed");
    assert_eq!(decrypt.default_version_id, "v2");
    assert_eq!(
        decrypt.document.as_deref(),
        Some(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*"}]}"#
        )
    );
    let not_action = d
        .policy("arn:aws:iam::123456789012:policy/everything-but-iam")
        .and_then(|p| p.document.as_deref())
        .expect("document");
    let parsed = IdentityPolicy::from_json_str(not_action).expect("an identity policy");
    assert!(parsed.statements[0].actions.is_not_action());
}

/// The emulator's answer as inventory JSON, for tests of the wings that read IAM details
/// without reading XML (`KMS_AUDIT_BLESS=1` rewrites it).
#[test]
fn the_emulator_answer_has_a_json_twin() {
    let mut details = parse_page(&fixture("moto-5.2.5.xml"))
        .expect("parses")
        .details;
    details.account = "123456789012".into();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam/moto-5.2.5.json");
    if std::env::var_os("KMS_AUDIT_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&details).expect("serializes") + "\n";
        std::fs::write(&path, text).expect("writes the twin");
    }
    let twin: AccountAuthorizationDetails =
        serde_json::from_str(&fixture("moto-5.2.5.json")).expect("the twin parses");
    assert_eq!(details, twin);
}

fn two_pages() -> [String; 2] {
    [fixture("page-1-truncated.xml"), fixture("page-2.xml")]
}

#[tokio::test]
async fn a_truncated_answer_is_read_to_the_end() {
    let pages = two_pages();
    let asked: RefCell<Vec<Option<String>>> = RefCell::new(Vec::new());
    let details = read_pages(|marker| {
        asked.borrow_mut().push(marker.clone());
        let text = match marker {
            None => pages[0].clone(),
            Some(_) => pages[1].clone(),
        };
        async move { parse_page(&text).map_err(IamError::InvalidResponse) }
    })
    .await
    .expect("read");
    assert_eq!(
        asked.into_inner(),
        [None, Some("AAEAAU+6/xqKoNZ2bK9ikr1oQ1o=".to_string())]
    );
    assert_eq!(names(&details.users, |u| &u.name), ["alice", "bob"]);
    // The role an instance profile nests is not a second role.
    assert_eq!(names(&details.roles, |r| &r.name), ["app"]);
    assert_eq!(names(&details.groups, |g| &g.name), ["admins"]);
    assert_eq!(
        names(&details.policies, |p| &p.name),
        ["kms-decrypt-all", "everything-but-iam", "ReadOnlyAccess"]
    );
    let alice = &details.users[0];
    assert_eq!(alice.path, "/staff/");
    assert_eq!(alice.id, "AIDACKCEVSQ6C2EXAMPLE");
    assert_eq!(alice.groups, ["admins", "ops"]);
    let document = &alice.inline_policies[0].document;
    assert!(document.contains("\n  \"Statement\": [\n"), "{document}");
    let parsed = IdentityPolicy::from_json_str(document).expect("an identity policy");
    assert_eq!(parsed.statements[0].sid.as_deref(), Some("UseOneKey"));
    let app = &details.roles[0];
    assert_eq!(
        names(&app.attached_policies, |p| &p.arn),
        [
            "arn:aws:iam::111122223333:policy/kms-decrypt-all",
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        ]
    );
    assert_eq!(
        details.users[1].permissions_boundary.as_deref(),
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
    );
    let readonly = details
        .policy("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .expect("listed");
    assert!(readonly.is_aws_managed());
    assert_eq!(readonly.attachment_count, 1);
    assert_eq!(readonly.id, "ANPAILL3HVNFSB6DCOWYQ");
    let decrypt = details
        .policy("arn:aws:iam::111122223333:policy/kms-decrypt-all")
        .and_then(|p| p.document.as_deref())
        .expect("default version");
    assert!(decrypt.contains("kms:ReEncryptFrom"), "{decrypt}");
}

#[tokio::test]
async fn a_repeated_marker_stops_the_read() {
    let first = fixture("page-1-truncated.xml");
    let mut calls = 0;
    let result = read_pages(|_| {
        calls += 1;
        let text = first.clone();
        async move { parse_page(&text).map_err(IamError::InvalidResponse) }
    })
    .await;
    assert_eq!(result, Err(IamError::RepeatedMarker { page: 2 }));
    assert_eq!(calls, 2);
    let message = IamError::RepeatedMarker { page: 2 }.to_string();
    assert!(message.contains("would never end"), "{message}");
}

#[tokio::test]
async fn an_endpoint_that_never_ends_is_stopped() {
    let first = fixture("page-1-truncated.xml");
    let mut calls = 0usize;
    let result = read_at_most(50, |_| {
        calls += 1;
        // A fresh Marker every time: only the page limit stops it.
        let text = first.replace("AAEAAU+6/xqKoNZ2bK9ikr1oQ1o=", &format!("m{calls}"));
        async move { parse_page(&text).map_err(IamError::InvalidResponse) }
    })
    .await;
    assert_eq!(result, Err(IamError::TooManyPages { pages: 50 }));
    assert_eq!(calls, 50);
}

#[test]
fn malformed_pages_are_refused_with_the_reason() {
    let page = fixture("page-2.xml");
    let cases = [
        (
            page.replace("<IsTruncated>false</IsTruncated>", ""),
            "no IsTruncated element",
        ),
        (
            page.replace(
                "<IsTruncated>false</IsTruncated>",
                "<IsTruncated>true</IsTruncated>",
            ),
            "IsTruncated is true but there is no Marker",
        ),
        (
            page.replace(
                "<IsTruncated>false</IsTruncated>",
                "<IsTruncated>maybe</IsTruncated>",
            ),
            "IsTruncated is \"maybe\", not true or false",
        ),
        (
            page.replace("<UserName>bob</UserName>", ""),
            "a member has no UserName",
        ),
        (
            page.replace(
                "<AttachmentCount>1</AttachmentCount>",
                "<AttachmentCount>x</AttachmentCount>",
            ),
            "AttachmentCount \"x\" is not a count",
        ),
        (
            "<html><body>502 Bad Gateway</body></html>".to_string(),
            "the root element is html",
        ),
        (
            fixture("access-denied.xml"),
            "the root element is ErrorResponse",
        ),
        (String::new(), "no root element"),
    ];
    for (text, why) in cases {
        match parse_page(&text) {
            Err(err) => assert!(err.contains(why), "{err:?} does not say {why:?}"),
            Ok(page) => panic!("accepted ({why}): {page:?}"),
        }
    }
}

#[test]
fn a_denied_read_is_its_own_error() {
    let body = parse_error(&fixture("access-denied.xml"));
    assert_eq!(body.code.as_deref(), Some("AccessDenied"));
    let Attempt::Final(err) = classify(403, &body) else {
        panic!("retried")
    };
    assert!(err.is_denied());
    assert_eq!(err.error_code(), Some("AccessDenied"));
    let text = err.to_string();
    assert!(
        text.starts_with("iam:GetAccountAuthorizationDetails was denied: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/kms-audit/scan is not authorized"),
        "{text}"
    );
    let throttled = ErrorBody {
        code: Some("Throttling".into()),
        message: Some("Rate exceeded".into()),
    };
    assert!(matches!(classify(400, &throttled), Attempt::Retryable(_)));
    assert!(matches!(
        classify(503, &ErrorBody::default()),
        Attempt::Retryable(_)
    ));
    let Attempt::Final(err) = classify(
        403,
        &ErrorBody {
            code: Some("InvalidClientTokenId".into()),
            message: None,
        },
    ) else {
        panic!("retried")
    };
    assert!(!err.is_denied());
    assert_eq!(
        err.to_string(),
        "iam:GetAccountAuthorizationDetails failed: InvalidClientTokenId: HTTP 403"
    );
}

#[test]
fn the_marker_is_form_encoded() {
    assert_eq!(
        request_body(None),
        "Action=GetAccountAuthorizationDetails&Version=2010-05-08&MaxItems=1000"
    );
    assert_eq!(
        request_body(Some("AAEAAU+6/xqKoNZ2bK9ikr1oQ1o=")),
        "Action=GetAccountAuthorizationDetails&Version=2010-05-08&MaxItems=1000&Marker=AAEAAU%2B6%2FxqKoNZ2bK9ikr1oQ1o%3D"
    );
}

#[test]
fn requests_are_signed_for_the_global_endpoint() {
    let identity: Identity =
        aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test").into();
    let (url, region) = global_endpoint("eu-west-1");
    assert_eq!((url, region), ("https://iam.amazonaws.com/", "us-east-1"));
    let request =
        signed_request(&identity, region, url, request_body(None).as_bytes()).expect("signed");
    assert_eq!(request.method(), "POST");
    let auth = request.headers().get("authorization").expect("signed");
    assert!(
        auth.contains("Credential=AKIDEXAMPLE/") && auth.contains("/us-east-1/iam/aws4_request"),
        "{auth}"
    );
    assert_eq!(
        request.headers().get("content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    assert_eq!(
        global_endpoint("cn-northwest-1"),
        ("https://iam.cn-north-1.amazonaws.com.cn/", "cn-north-1")
    );
    assert_eq!(
        global_endpoint("us-gov-east-1"),
        ("https://iam.us-gov.amazonaws.com/", "us-gov-west-1")
    );
}

#[test]
fn documents_are_url_decoded() {
    assert_eq!(
        url_decoded("%7B%22a%22%3A%20%22b%2Fc%22%7D"),
        r#"{"a": "b/c"}"#
    );
    // Invalid UTF-8 does not fail the read; the document then fails to parse as a policy.
    assert_eq!(url_decoded("%FF"), "\u{FFFD}");
}
