//! Scanner-ceiling benchmark: a fast stand-in for AWS KMS, STS, Organizations and IAM's
//! `GetAccountAuthorizationDetails` that serves a synthetic AWS Organization, with a configurable latency per request and AWS-like KMS request
//! quotas per account×region. `scripts/bench-ceiling.sh` runs it; it is a benchmark, not a test.
//!
//! ```text
//! bench_stub [--accounts 200] [--regions 17] [--keys 30] [--latency-ms 0] [--quota-scale 1]
//!            [--quota OPERATION=RPS]... [--threads 1] [--port 0] [--max-seconds 1800]
//! ```
//!
//! It prints `bench stub listening on http://127.0.0.1:PORT` once it accepts connections, serves
//! until SIGINT/SIGTERM or `--max-seconds`, then prints its counters as one JSON line on stdout.
//! `GET /__bench/stats` returns the same counters at any time, `GET /__bench/expected` what a
//! complete scan of the organization must find and send.
//!
//! The organization: account 0 (`100000000000`) is the management account, the caller for any
//! access key the stub did not issue. `AssumeRole` returns the access key id
//! `ASIABENCH<account>`, so every later request names its account in the SigV4 `Credential=`
//! scope, next to its region. Key ids encode account, region and key index, so the stub keeps no
//! per-key state and answers from arithmetic. KMS quotas are token buckets per caller
//! account×region×operation (a one-second burst); a request over quota gets HTTP 400
//! `ThrottlingException`, as AWS answers. STS, Organizations and IAM are not throttled.
//!
//! IAM (`GetAccountAuthorizationDetails`, Query protocol, one page) describes the same small
//! account everywhere, under each account's id: 3 users (one in two groups), 2 groups, 3 roles
//! (`bench-app`, which the customer keys' policies name, a key administrator and the
//! organization's access role), 2 customer-managed policies and 2 AWS-managed ones, with
//! inline policies, a Deny, a NotAction statement and a permissions boundary.
//!
//! Key mix per account×region, by key index `k` (with the default 30 keys: 5 AWS managed,
//! 17 symmetric customer keys, 4 RSA, 4 HMAC):
//! - `k < keys / 6`: AWS managed, symmetric, `alias/aws/<service>`;
//! - else, with `j = k - keys / 6`: `j % 6` in 0..=3 symmetric (rotation on for even `j`),
//!   4 RSA_2048 signing, 5 HMAC_256; an alias unless `j % 7 == 3`; two tags; one grant when
//!   `j % 4 == 0`; Disabled when `j % 13 == 5`.

// The pieces of tests/support a benchmark stub needs (all of it would link the AWS SDK clients
// the tests seed with).
#[path = "../tests/support/bench.rs"]
mod bench;
#[path = "../tests/support/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use bench::{AWS_SERVICES, FIRST_ACCOUNT, REGIONS, account_id, flags};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proxy::percent_decode;

const ORG_ID: &str = "o-bench000001";
const ASSUMED_PREFIX: &str = "ASIABENCH";
const ACCOUNTS_PAGE: usize = 20;
/// 2024-01-01T00:00:00Z, creation date of every key.
const CREATED: u64 = 1_704_067_200;

/// The per-target operations the scanner may send, with the AWS default quota (requests per
/// second per account and region; KMS developer guide, "Request quotas", 2025). The last one is
/// the Resource Groups Tagging API's GetResources (the region's tag listing), which has no
/// published per-operation default: the stub applies none unless `--quota GetResources=RPS`.
const KMS_OPERATIONS: [(&str, f64); 8] = [
    ("ListKeys", 500.0),
    ("ListAliases", 500.0),
    ("DescribeKey", 2000.0),
    ("GetKeyPolicy", 1000.0),
    ("GetKeyRotationStatus", 1000.0),
    ("ListResourceTags", 2000.0),
    ("ListGrants", 100.0),
    ("GetResources", 0.0),
];
/// Index of GetResources in KMS_OPERATIONS.
const GET_RESOURCES: usize = 7;

#[derive(Debug, Clone)]
struct Options {
    accounts: usize,
    regions: usize,
    keys: usize,
    latency: Duration,
    quotas: [f64; 8],
    threads: usize,
    port: u16,
    max_seconds: u64,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "bench_stub: {problem}\nusage: bench_stub [--accounts N] [--regions N (max 17)] [--keys N] \
         [--latency-ms MS] [--quota-scale F (0 = no quotas)] [--quota OPERATION=RPS]... \
         [--threads N] [--port P] [--max-seconds S]"
    );
    std::process::exit(2);
}

fn parse_options() -> Options {
    let mut options = Options {
        accounts: 200,
        regions: 17,
        keys: 30,
        latency: Duration::ZERO,
        quotas: KMS_OPERATIONS.map(|(_, rps)| rps),
        threads: 1,
        port: 0,
        max_seconds: 1800,
    };
    let mut scale = 1.0f64;
    let mut overrides: Vec<(usize, f64)> = Vec::new();
    for flag in flags(std::env::args().skip(1), usage) {
        match flag.name.as_str() {
            "--accounts" => options.accounts = flag.number(),
            "--regions" => options.regions = flag.number(),
            "--keys" => options.keys = flag.number(),
            "--latency-ms" => {
                options.latency = Duration::from_secs_f64(flag.number::<f64>() / 1000.0)
            }
            "--quota-scale" => scale = flag.number(),
            "--quota" => {
                let (name, rps) = flag
                    .value
                    .split_once('=')
                    .unwrap_or_else(|| usage("--quota takes OPERATION=RPS"));
                let index = KMS_OPERATIONS
                    .iter()
                    .position(|(op, _)| *op == name)
                    .unwrap_or_else(|| usage(&format!("--quota: unknown operation {name}")));
                overrides.push((index, flag.number_in(rps)));
            }
            "--threads" => options.threads = flag.number(),
            "--port" => options.port = flag.number(),
            "--max-seconds" => options.max_seconds = flag.number(),
            _ => flag.unknown(),
        }
    }
    if options.accounts == 0 || options.regions == 0 || options.regions > REGIONS.len() {
        usage("--accounts must be at least 1 and --regions between 1 and 17");
    }
    for quota in &mut options.quotas {
        *quota *= scale;
    }
    for (index, rps) in overrides {
        options.quotas[index] = rps;
    }
    options
}

fn main() {
    let options = parse_options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(serve(options));
}

async fn serve(options: Options) {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port)))
        .await
        .expect("bind 127.0.0.1");
    let address = listener.local_addr().expect("local address");
    let state = Arc::new(State::new(options.clone()));
    println!("bench stub listening on http://{address}");
    eprintln!(
        "bench_stub: {} accounts x {} regions x {} keys = {} keys, latency {:?}, KMS quotas {:?}",
        options.accounts,
        options.regions,
        options.keys,
        options.accounts * options.regions * options.keys,
        options.latency,
        KMS_OPERATIONS
            .iter()
            .zip(options.quotas)
            .map(|((op, _), rps)| format!("{op}={rps}"))
            .collect::<Vec<_>>()
    );
    let accept = {
        let state = state.clone();
        async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                state.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(connection(stream, state.clone()));
            }
        }
    };
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = accept => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        _ = tokio::time::sleep(Duration::from_secs(options.max_seconds)) => {
            eprintln!("bench_stub: --max-seconds reached, stopping");
        }
    }
    println!("{}", state.stats());
}

// --- HTTP/1.1 -------------------------------------------------------------------------------

struct Request<'a> {
    method: &'a str,
    path: &'a str,
    target: Option<&'a str>,
    authorization: Option<&'a str>,
    body: &'a [u8],
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Response {
    fn json(body: String) -> Response {
        Response {
            status: 200,
            content_type: "application/x-amz-json-1.1",
            body,
        }
    }

    fn xml(body: String) -> Response {
        Response {
            status: 200,
            content_type: "text/xml",
            body,
        }
    }

    fn error(code: &str, message: &str) -> Response {
        Response {
            status: 400,
            content_type: "application/x-amz-json-1.1",
            body: json!({"__type": code, "message": message}).to_string(),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One keep-alive connection: requests are read one after the other (no pipelining needed; the
/// SDK's HTTP client never pipelines).
async fn connection(mut stream: TcpStream, state: Arc<State>) {
    let _ = stream.set_nodelay(true);
    let mut buffer: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    loop {
        let head_end = loop {
            if let Some(at) = find(&buffer, b"\r\n\r\n") {
                break at + 4;
            }
            if buffer.len() > 64 * 1024 {
                return;
            }
            match stream.read_buf(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let Ok(head) = std::str::from_utf8(&buffer[..head_end]) else {
            return;
        };
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_string();
        let path = request_line.next().unwrap_or_default().to_string();
        let mut content_length = 0usize;
        let mut target = None;
        let mut authorization = None;
        let mut close = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("x-amz-target") {
                target = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                // The SDK sends a Content-Length for every request the scanner makes.
                return;
            }
        }
        while buffer.len() < head_end + content_length {
            match stream.read_buf(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        let request = Request {
            method: &method,
            path: &path,
            target: target.as_deref(),
            authorization: authorization.as_deref(),
            body: &buffer[head_end..head_end + content_length],
        };
        let response = state.handle(&request);
        buffer.drain(..head_end + content_length);
        if !state.options.latency.is_zero() {
            tokio::time::sleep(state.options.latency).await;
        }
        out.clear();
        let reason = if response.status == 200 {
            "OK"
        } else {
            "Bad Request"
        };
        let request_id = state.requests.fetch_add(1, Ordering::Relaxed);
        out.extend_from_slice(
            format!(
                "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nx-amzn-RequestId: bench-{request_id}\r\n\r\n",
                response.status,
                response.content_type,
                response.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(response.body.as_bytes());
        if stream.write_all(&out).await.is_err() || close {
            return;
        }
    }
}

// --- the synthetic organization -------------------------------------------------------------

/// Names of [`Kind`]s in the statistics, in declaration order.
const KIND_NAMES: [&str; 4] = [
    "aws_managed",
    "customer_symmetric",
    "customer_rsa",
    "customer_hmac",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AwsManaged,
    Symmetric,
    Rsa,
    Hmac,
}

/// What the arithmetic says about key `k` of a target.
#[derive(Debug, Clone, Copy)]
struct KeyFacts {
    kind: Kind,
    /// Index among the customer keys (`k - aws_managed`).
    j: usize,
}

impl KeyFacts {
    fn of(k: usize, keys: usize) -> KeyFacts {
        let aws = keys / 6;
        if k < aws {
            return KeyFacts {
                kind: Kind::AwsManaged,
                j: 0,
            };
        }
        let j = k - aws;
        let kind = match j % 6 {
            4 => Kind::Rsa,
            5 => Kind::Hmac,
            _ => Kind::Symmetric,
        };
        KeyFacts { kind, j }
    }
    fn rotation_enabled(&self) -> bool {
        self.kind == Kind::AwsManaged || (self.kind == Kind::Symmetric && self.j.is_multiple_of(2))
    }
    fn has_alias(&self) -> bool {
        self.kind == Kind::AwsManaged || self.j % 7 != 3
    }
    fn has_grant(&self) -> bool {
        self.kind != Kind::AwsManaged && self.j.is_multiple_of(4)
    }
    fn disabled(&self) -> bool {
        self.kind != Kind::AwsManaged && self.j % 13 == 5
    }
}

fn key_id(account: usize, region: usize, key: usize) -> String {
    format!("{account:08}-{region:04}-4000-8000-{key:012}")
}

fn key_arn(account: usize, region: usize, key: usize) -> String {
    format!(
        "arn:aws:kms:{}:{}:key/{}",
        REGIONS[region],
        account_id(account),
        key_id(account, region, key)
    )
}

fn alias_name(k: usize, facts: &KeyFacts) -> String {
    match facts.kind {
        Kind::AwsManaged => format!("alias/aws/{}", AWS_SERVICES[k % AWS_SERVICES.len()]),
        _ => format!("alias/bench-app-{k}"),
    }
}

/// (account, region, key) from a key id or key ARN the stub issued.
fn parse_key(text: &str) -> Option<(usize, usize, usize)> {
    let id = text.rsplit('/').next()?;
    let mut parts = id.split('-');
    let account = parts.next()?.parse().ok()?;
    let region = parts.next()?.parse().ok()?;
    let key = parts.nth(2)?.parse().ok()?;
    Some((account, region, key))
}

// --- state, quotas, statistics --------------------------------------------------------------

struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Default)]
struct OpCounters {
    requests: AtomicU64,
    throttled: AtomicU64,
}

struct State {
    options: Options,
    started: Instant,
    /// One bucket per caller account × region × KMS operation.
    buckets: Vec<Mutex<Bucket>>,
    kms: [OpCounters; 8],
    /// Answered per-key requests by key kind (`Kind as usize`) and operation.
    by_kind: [[AtomicU64; 8]; 4],
    requests: AtomicU64,
    connections: AtomicU64,
    assume_role: AtomicU64,
    caller_identity: AtomicU64,
    iam_details: AtomicU64,
    describe_organization: AtomicU64,
    list_accounts: AtomicU64,
    /// Security Hub BatchImportFindings: requests, findings taken, findings refused because
    /// they belong to another account than the signer's.
    batch_import: AtomicU64,
    findings_imported: AtomicU64,
    findings_refused: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    /// Microseconds since start of the first and the last request, for the stub's own rate.
    first_us: AtomicU64,
    last_us: AtomicU64,
    /// Escaped policy documents per account: [customer, AWS managed].
    policies: Vec<[String; 2]>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TaggingInput {
    #[serde(default)]
    resource_type_filters: Vec<String>,
    resources_per_page: Option<usize>,
    pagination_token: Option<String>,
}

/// GetResources pages for one target: a page ends after 100 customer keys or at the last key.
fn tag_listing_pages(keys: usize) -> u64 {
    let mut pages = 1;
    let mut on_page = 0;
    for k in 0..keys {
        if on_page == 100 {
            pages += 1;
            on_page = 0;
        }
        if KeyFacts::of(k, keys).kind != Kind::AwsManaged {
            on_page += 1;
        }
    }
    pages
}

/// The tags of customer key `k` of `account`: (env, team).
fn tags_of(account: usize, k: usize) -> (&'static str, String) {
    let env = if account.is_multiple_of(2) {
        "prod"
    } else {
        "dev"
    };
    (env, format!("team-{}", k % 5))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct KmsInput {
    key_id: Option<String>,
    limit: Option<usize>,
    marker: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct OrgInput {
    next_token: Option<String>,
    max_results: Option<usize>,
}

impl State {
    fn new(options: Options) -> State {
        let buckets = (0..options.accounts * options.regions * KMS_OPERATIONS.len())
            .map(|i| {
                Mutex::new(Bucket {
                    tokens: options.quotas[i % KMS_OPERATIONS.len()],
                    last: Instant::now(),
                })
            })
            .collect();
        let policies = (0..options.accounts)
            .map(|a| {
                let account = account_id(a);
                let root = json!({
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                    "Action": "kms:*",
                    "Resource": "*"
                });
                let customer = json!({"Version": "2012-10-17", "Id": "bench-key", "Statement": [
                    root,
                    {"Sid": "AllowApp", "Effect": "Allow",
                     "Principal": {"AWS": format!("arn:aws:iam::{account}:role/bench-app")},
                     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                     "Resource": "*"}
                ]});
                let managed = json!({"Version": "2012-10-17", "Id": "auto-service", "Statement": [
                    {"Sid": "Allow access through the service for all principals in the account",
                     "Effect": "Allow", "Principal": {"AWS": "*"},
                     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                                "kms:GenerateDataKey*", "kms:DescribeKey"],
                     "Resource": "*",
                     "Condition": {"StringEquals": {"kms:CallerAccount": account}}},
                    {"Sid": "Allow direct access to key metadata to the account",
                     "Effect": "Allow",
                     "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                     "Action": ["kms:Describe*", "kms:Get*", "kms:List*"], "Resource": "*"}
                ]});
                [
                    serde_json::to_string(&customer.to_string()).expect("policy"),
                    serde_json::to_string(&managed.to_string()).expect("policy"),
                ]
            })
            .collect();
        State {
            buckets,
            kms: Default::default(),
            by_kind: Default::default(),
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            assume_role: AtomicU64::new(0),
            caller_identity: AtomicU64::new(0),
            iam_details: AtomicU64::new(0),
            describe_organization: AtomicU64::new(0),
            list_accounts: AtomicU64::new(0),
            batch_import: AtomicU64::new(0),
            findings_imported: AtomicU64::new(0),
            findings_refused: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            first_us: AtomicU64::new(u64::MAX),
            last_us: AtomicU64::new(0),
            started: Instant::now(),
            policies,
            options,
        }
    }

    fn error(&self, what: String) {
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(what).or_default() += 1;
        }
    }

    /// The caller's account index and its signing region, from the SigV4 credential scope.
    fn caller(&self, authorization: Option<&str>) -> (usize, Option<usize>) {
        let Some(scope) = authorization
            .and_then(|a| a.split("Credential=").nth(1))
            .map(|c| c.split([',', ' ']).next().unwrap_or_default())
        else {
            return (0, None);
        };
        let mut parts = scope.split('/');
        let access_key = parts.next().unwrap_or_default();
        let region = parts
            .nth(1)
            .and_then(|r| REGIONS[..self.options.regions].iter().position(|x| *x == r));
        let account = access_key
            .strip_prefix(ASSUMED_PREFIX)
            .and_then(|digits| digits.parse::<u64>().ok())
            .and_then(|id| id.checked_sub(FIRST_ACCOUNT))
            .map(|i| i as usize)
            .filter(|i| *i < self.options.accounts)
            .unwrap_or(0);
        (account, region)
    }

    fn handle(&self, request: &Request) -> Response {
        let now = self.started.elapsed().as_micros() as u64;
        self.first_us.fetch_min(now, Ordering::Relaxed);
        self.last_us.fetch_max(now, Ordering::Relaxed);
        if request.method == "GET" {
            return match request.path {
                "/__bench/stats" => Response::json(self.stats()),
                "/__bench/expected" => Response::json(self.expected()),
                _ => Response::error("NotFound", "unknown path"),
            };
        }
        if request.method == "POST" && request.path == "/findings/import" {
            return self.batch_import_findings(request);
        }
        match request.target {
            Some(target) if target.starts_with("TrentService.") => {
                self.kms(&target["TrentService.".len()..], request)
            }
            Some("ResourceGroupsTaggingAPI_20170126.GetResources") => {
                self.kms("GetResources", request)
            }
            Some(target) if target.starts_with("AWSOrganizationsV20161128.") => {
                self.organizations(&target["AWSOrganizationsV20161128.".len()..], request)
            }
            Some(other) => {
                self.error(format!("unknown target {other}"));
                Response::error("UnknownOperationException", other)
            }
            None => self.sts(request),
        }
    }

    /// Security Hub's BatchImportFindings (for `kms-audit publish securityhub`): takes every
    /// finding whose `AwsAccountId` is the signer's account, refuses the others (the account
    /// rule), without parsing the findings.
    fn batch_import_findings(&self, request: &Request) -> Response {
        self.batch_import.fetch_add(1, Ordering::Relaxed);
        let signer = request
            .authorization
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .map(|key| match key.strip_prefix(ASSUMED_PREFIX) {
                Some(account) => account.to_string(),
                None => account_id(0),
            })
            .unwrap_or_default();
        let needle = br#""AwsAccountId":""#;
        let (mut taken, mut refused) = (0u64, Vec::new());
        let mut rest = request.body;
        while let Some(at) = find(rest, needle) {
            let start = at + needle.len();
            let account = rest.get(start..start + 12).unwrap_or_default();
            if account == signer.as_bytes() {
                taken += 1;
            } else {
                refused.push(json!({"Id": "", "ErrorCode": "AccessDeniedException",
                    "ErrorMessage": format!("signed by {signer}")}));
            }
            rest = &rest[start..];
        }
        if taken + refused.len() as u64 > 100 {
            self.error("securityhub:BatchImportFindings with more than 100 findings".into());
        }
        self.findings_imported.fetch_add(taken, Ordering::Relaxed);
        self.findings_refused
            .fetch_add(refused.len() as u64, Ordering::Relaxed);
        Response {
            status: 200,
            content_type: "application/json",
            body: json!({"SuccessCount": taken, "FailedCount": refused.len(),
                         "FailedFindings": refused})
            .to_string(),
        }
    }

    fn take_token(&self, account: usize, region: usize, op: usize) -> bool {
        let rate = self.options.quotas[op];
        if rate <= 0.0 {
            return true;
        }
        let index = (account * self.options.regions + region) * KMS_OPERATIONS.len() + op;
        let mut bucket = self.buckets[index].lock().expect("bucket");
        let now = Instant::now();
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn kms(&self, operation: &str, request: &Request) -> Response {
        let Some(op) = KMS_OPERATIONS.iter().position(|(o, _)| *o == operation) else {
            self.error(format!(
                "kms:{operation} (not a read the scanner should send)"
            ));
            return Response::error("UnsupportedOperationException", operation);
        };
        self.kms[op].requests.fetch_add(1, Ordering::Relaxed);
        let (account, region) = self.caller(request.authorization);
        let Some(region) = region else {
            self.error(format!("kms:{operation} signed for an unknown region"));
            return Response::error("UnrecognizedClientException", "unknown region");
        };
        if !self.take_token(account, region, op) {
            self.kms[op].throttled.fetch_add(1, Ordering::Relaxed);
            return Response::error("ThrottlingException", "Rate exceeded");
        }
        let keys = self.options.keys;
        if op == GET_RESOURCES {
            return self.tagged_keys(account, region, request);
        }
        let input: KmsInput = serde_json::from_slice(request.body).unwrap_or_default();
        if op <= 1 {
            let limit = input.limit.unwrap_or(100).clamp(1, 1000);
            let start: usize = input
                .marker
                .as_deref()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            let end = (start + limit).min(keys);
            let page = if op == 0 {
                let entries: Vec<String> = (start..end)
                    .map(|k| {
                        format!(
                            r#"{{"KeyId":"{}","KeyArn":"{}"}}"#,
                            key_id(account, region, k),
                            key_arn(account, region, k)
                        )
                    })
                    .collect();
                format!(r#""Keys":[{}]"#, entries.join(","))
            } else {
                let entries: Vec<String> = (start..end)
                    .filter_map(|k| {
                        let facts = KeyFacts::of(k, keys);
                        facts.has_alias().then(|| {
                            let name = alias_name(k, &facts);
                            format!(
                                r#"{{"AliasName":"{name}","AliasArn":"arn:aws:kms:{}:{}:{name}","TargetKeyId":"{}"}}"#,
                                REGIONS[region],
                                account_id(account),
                                key_id(account, region, k)
                            )
                        })
                    })
                    .collect();
                format!(r#""Aliases":[{}]"#, entries.join(","))
            };
            return Response::json(if end < keys {
                format!(r#"{{{page},"Truncated":true,"NextMarker":"{end}"}}"#)
            } else {
                format!(r#"{{{page},"Truncated":false}}"#)
            });
        }
        let Some((a, r, k)) = input.key_id.as_deref().and_then(parse_key) else {
            self.error(format!("kms:{operation} for a key the stub never issued"));
            return Response::error("NotFoundException", "no such key");
        };
        if a != account || r != region || k >= keys {
            self.error(format!(
                "kms:{operation} for a key of another account or region"
            ));
            return Response::error("NotFoundException", "no such key in this account/region");
        }
        let facts = KeyFacts::of(k, keys);
        self.by_kind[facts.kind as usize][op].fetch_add(1, Ordering::Relaxed);
        let arn = key_arn(a, r, k);
        let account_text = account_id(a);
        match operation {
            "DescribeKey" => {
                let (spec, usage, algorithms) = match facts.kind {
                    Kind::AwsManaged | Kind::Symmetric => (
                        "SYMMETRIC_DEFAULT",
                        "ENCRYPT_DECRYPT",
                        r#""EncryptionAlgorithms":["SYMMETRIC_DEFAULT"]"#,
                    ),
                    Kind::Rsa => (
                        "RSA_2048",
                        "SIGN_VERIFY",
                        r#""SigningAlgorithms":["RSASSA_PSS_SHA_256","RSASSA_PKCS1_V1_5_SHA_256"]"#,
                    ),
                    Kind::Hmac => (
                        "HMAC_256",
                        "GENERATE_VERIFY_MAC",
                        r#""MacAlgorithms":["HMAC_SHA_256"]"#,
                    ),
                };
                let manager = if facts.kind == Kind::AwsManaged {
                    "AWS"
                } else {
                    "CUSTOMER"
                };
                let (enabled, state) = if facts.disabled() {
                    (false, "Disabled")
                } else {
                    (true, "Enabled")
                };
                Response::json(format!(
                    r#"{{"KeyMetadata":{{"AWSAccountId":"{account_text}","KeyId":"{}","Arn":"{arn}","CreationDate":{CREATED},"Enabled":{enabled},"Description":"bench key {k}","KeyUsage":"{usage}","KeyState":"{state}","Origin":"AWS_KMS","KeyManager":"{manager}","CustomerMasterKeySpec":"{spec}","KeySpec":"{spec}",{algorithms},"MultiRegion":false}}}}"#,
                    key_id(a, r, k)
                ))
            }
            "GetKeyPolicy" => {
                let policy = &self.policies[a][usize::from(facts.kind == Kind::AwsManaged)];
                Response::json(format!(r#"{{"Policy":{policy},"PolicyName":"default"}}"#))
            }
            "GetKeyRotationStatus" => {
                if matches!(facts.kind, Kind::Rsa | Kind::Hmac) {
                    return Response::error(
                        "UnsupportedOperationException",
                        "rotation is not supported for this key",
                    );
                }
                Response::json(if facts.rotation_enabled() {
                    format!(
                        r#"{{"KeyRotationEnabled":true,"KeyId":"{arn}","RotationPeriodInDays":365,"NextRotationDate":{}}}"#,
                        CREATED + 365 * 86_400
                    )
                } else {
                    format!(r#"{{"KeyRotationEnabled":false,"KeyId":"{arn}"}}"#)
                })
            }
            "ListResourceTags" => {
                let (env, team) = tags_of(a, k);
                Response::json(format!(
                    r#"{{"Tags":[{{"TagKey":"env","TagValue":"{env}"}},{{"TagKey":"team","TagValue":"{team}"}}],"Truncated":false}}"#
                ))
            }
            "ListGrants" => {
                let grants = if facts.has_grant() {
                    format!(
                        r#"{{"KeyId":"{arn}","GrantId":"{:064}","Name":"bench-grant","CreationDate":{CREATED},"GranteePrincipal":"arn:aws:iam::{account_text}:role/bench-app","IssuingAccount":"arn:aws:iam::{account_text}:root","Operations":["Decrypt","Encrypt"]}}"#,
                        k
                    )
                } else {
                    String::new()
                };
                Response::json(format!(r#"{{"Grants":[{grants}],"Truncated":false}}"#))
            }
            _ => unreachable!("every KMS_OPERATIONS entry is handled"),
        }
    }

    /// GetResources for `kms:key`: every customer key of the target with its tags (AWS-managed
    /// keys carry none), `ResourcesPerPage` at a time; the token is the next key index.
    fn tagged_keys(&self, account: usize, region: usize, request: &Request) -> Response {
        let input: TaggingInput = serde_json::from_slice(request.body).unwrap_or_default();
        if input.resource_type_filters != ["kms:key"] {
            self.error(format!(
                "tag:GetResources with filters {:?}",
                input.resource_type_filters
            ));
        }
        let keys = self.options.keys;
        let per_page = input.resources_per_page.unwrap_or(50).clamp(1, 100);
        let mut k: usize = input
            .pagination_token
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let mut entries = Vec::new();
        while k < keys && entries.len() < per_page {
            if KeyFacts::of(k, keys).kind != Kind::AwsManaged {
                let (env, team) = tags_of(account, k);
                entries.push(format!(
                    r#"{{"ResourceARN":"{}","Tags":[{{"Key":"env","Value":"{env}"}},{{"Key":"team","Value":"{team}"}}]}}"#,
                    key_arn(account, region, k)
                ));
            }
            k += 1;
        }
        let token = if k < keys {
            k.to_string()
        } else {
            String::new()
        };
        Response::json(format!(
            r#"{{"PaginationToken":"{token}","ResourceTagMappingList":[{}]}}"#,
            entries.join(",")
        ))
    }

    fn organizations(&self, operation: &str, request: &Request) -> Response {
        let management = account_id(0);
        match operation {
            "DescribeOrganization" => {
                self.describe_organization.fetch_add(1, Ordering::Relaxed);
                Response::json(format!(
                    r#"{{"Organization":{{"Id":"{ORG_ID}","Arn":"arn:aws:organizations::{management}:organization/{ORG_ID}","FeatureSet":"ALL","MasterAccountArn":"arn:aws:organizations::{management}:account/{ORG_ID}/{management}","MasterAccountId":"{management}","MasterAccountEmail":"management@example.com"}}}}"#
                ))
            }
            "ListAccounts" => {
                self.list_accounts.fetch_add(1, Ordering::Relaxed);
                let input: OrgInput = serde_json::from_slice(request.body).unwrap_or_default();
                let start: usize = input
                    .next_token
                    .as_deref()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let end = (start + input.max_results.unwrap_or(ACCOUNTS_PAGE).clamp(1, 20))
                    .min(self.options.accounts);
                let accounts: Vec<String> = (start..end)
                    .map(|i| {
                        let id = account_id(i);
                        format!(
                            r#"{{"Id":"{id}","Arn":"arn:aws:organizations::{management}:account/{ORG_ID}/{id}","Email":"bench-{i}@example.com","Name":"bench-{i}","Status":"ACTIVE","State":"ACTIVE","JoinedMethod":"CREATED","JoinedTimestamp":{CREATED}}}"#
                        )
                    })
                    .collect();
                let token = if end < self.options.accounts {
                    format!(r#","NextToken":"{end}""#)
                } else {
                    String::new()
                };
                Response::json(format!(r#"{{"Accounts":[{}]{token}}}"#, accounts.join(",")))
            }
            other => {
                self.error(format!("organizations:{other}"));
                Response::error("UnsupportedAPIEndpointException", other)
            }
        }
    }

    /// The Query-protocol services: STS, and IAM's GetAccountAuthorizationDetails.
    fn sts(&self, request: &Request) -> Response {
        let form: BTreeMap<String, String> = String::from_utf8_lossy(request.body)
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (percent_decode(k), percent_decode(v)))
            .collect();
        let (caller, _) = self.caller(request.authorization);
        let request_id = "bench-sts";
        match form.get("Action").map(String::as_str) {
            Some("GetCallerIdentity") => {
                self.caller_identity.fetch_add(1, Ordering::Relaxed);
                let account = account_id(caller);
                Response::xml(format!(
                    r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::{account}:user/bench</Arn><UserId>AIDABENCH{account}</UserId><Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#
                ))
            }
            Some("GetAccountAuthorizationDetails") => {
                self.iam_details.fetch_add(1, Ordering::Relaxed);
                Response::xml(iam_details_xml(&account_id(caller)))
            }
            Some("AssumeRole") => {
                self.assume_role.fetch_add(1, Ordering::Relaxed);
                let role_arn = form.get("RoleArn").cloned().unwrap_or_default();
                let Some(account) = role_arn
                    .split("iam::")
                    .nth(1)
                    .and_then(|rest| rest.get(..12))
                    .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_string)
                else {
                    self.error("sts:AssumeRole with a malformed role ARN".into());
                    return Response::xml_error("ValidationError", "bad RoleArn");
                };
                let session = form.get("RoleSessionName").cloned().unwrap_or_default();
                let role = role_arn.rsplit('/').next().unwrap_or_default();
                let expiration = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
                let expiration = expiration
                    .format(&time::format_description::well_known::Rfc3339)
                    .expect("timestamp");
                Response::xml(format!(
                    r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>{ASSUMED_PREFIX}{account}</AccessKeyId><SecretAccessKey>bench-secret</SecretAccessKey><SessionToken>bench-session-{account}</SessionToken><Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROABENCH{account}:{session}</AssumedRoleId><Arn>arn:aws:sts::{account}:assumed-role/{role}/{session}</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></AssumeRoleResponse>"#
                ))
            }
            other => {
                let other = other.unwrap_or("(no Action)");
                self.error(format!("sts:{other}"));
                Response::xml_error("InvalidAction", other)
            }
        }
    }

    /// Requests per operation a complete scan of the whole organization sends (no throttling).
    fn expected(&self) -> String {
        let keys = self.options.keys;
        let targets = (self.options.accounts * self.options.regions) as u64;
        let mut per_target: BTreeMap<&str, u64> = BTreeMap::new();
        let mut customer = 0u64;
        let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
        for k in 0..keys {
            let facts = KeyFacts::of(k, keys);
            *kinds.entry(KIND_NAMES[facts.kind as usize]).or_default() += targets;
            *per_target.entry("kms:DescribeKey").or_default() += 1;
            *per_target.entry("kms:GetKeyPolicy").or_default() += 1;
            if facts.kind != Kind::AwsManaged {
                customer += 1;
                // Every customer key is tagged, so the tag listing has them all.
                *per_target.entry("kms:ListGrants").or_default() += 1;
            }
            if facts.kind == Kind::Symmetric {
                *per_target.entry("kms:GetKeyRotationStatus").or_default() += 1;
            }
        }
        *per_target.entry("kms:ListKeys").or_default() += keys.div_ceil(1000).max(1) as u64;
        // Alias pages follow the key range (100 keys' aliases per page of the scanner's Limit).
        *per_target.entry("kms:ListAliases").or_default() += keys.div_ceil(100).max(1) as u64;
        // The tag listing: 100 keys per page, keys in index order; the last page may be empty.
        *per_target.entry("tag:GetResources").or_default() += tag_listing_pages(keys);
        let calls: BTreeMap<&str, u64> = per_target
            .into_iter()
            .map(|(op, n)| (op, n * targets))
            .collect();
        json!({
            "keys": targets * keys as u64,
            "customer_keys": targets * customer,
            "aws_managed_keys": targets * (keys as u64 - customer),
            "keys_by_kind": kinds,
            "accounts": self.options.accounts,
            "regions": self.options.regions,
            "region_names": &REGIONS[..self.options.regions],
            "kms_calls": calls,
            "kms_calls_total": calls.values().sum::<u64>(),
            // One IAM read per account (one page), unless the scan runs with --no-iam.
            "iam_calls": {"iam:GetAccountAuthorizationDetails": self.options.accounts},
        })
        .to_string()
    }

    fn stats(&self) -> String {
        let requests: BTreeMap<&str, u64> = KMS_OPERATIONS
            .iter()
            .zip(&self.kms)
            .map(|((op, _), c)| (*op, c.requests.load(Ordering::Relaxed)))
            .collect();
        let throttled: BTreeMap<&str, u64> = KMS_OPERATIONS
            .iter()
            .zip(&self.kms)
            .map(|((op, _), c)| (*op, c.throttled.load(Ordering::Relaxed)))
            .collect();
        let by_kind: BTreeMap<&str, BTreeMap<&str, u64>> = KIND_NAMES
            .iter()
            .zip(&self.by_kind)
            .map(|(kind, counters)| {
                let ops = KMS_OPERATIONS
                    .iter()
                    .zip(counters)
                    .map(|((op, _), n)| (*op, n.load(Ordering::Relaxed)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                (*kind, ops)
            })
            .collect();
        let first = self.first_us.load(Ordering::Relaxed);
        let last = self.last_us.load(Ordering::Relaxed);
        json!({
            "kms_answered_by_key_kind": by_kind,
            "requests": self.requests.load(Ordering::Relaxed),
            "connections": self.connections.load(Ordering::Relaxed),
            "kms_requests": requests,
            "kms_throttled": throttled,
            "kms_throttled_total": throttled.values().sum::<u64>(),
            "sts": {"AssumeRole": self.assume_role.load(Ordering::Relaxed),
                    "GetCallerIdentity": self.caller_identity.load(Ordering::Relaxed)},
            "iam": {"GetAccountAuthorizationDetails": self.iam_details.load(Ordering::Relaxed)},
            "organizations": {
                "DescribeOrganization": self.describe_organization.load(Ordering::Relaxed),
                "ListAccounts": self.list_accounts.load(Ordering::Relaxed)},
            "securityhub": {
                "BatchImportFindings": self.batch_import.load(Ordering::Relaxed),
                "findings_imported": self.findings_imported.load(Ordering::Relaxed),
                "findings_refused": self.findings_refused.load(Ordering::Relaxed)},
            "errors": *self.errors.lock().expect("errors"),
            "active_seconds": if last > first { (last - first) as f64 / 1e6 } else { 0.0 },
        })
        .to_string()
    }
}

impl Response {
    fn xml_error(code: &str, message: &str) -> Response {
        Response {
            status: 400,
            content_type: "text/xml",
            body: format!(
                r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>bench-sts</RequestId></ErrorResponse>"#
            ),
        }
    }
}

// --- IAM --------------------------------------------------------------------------------------

/// A policy document as IAM sends it: JSON, URL-encoded.
fn iam_document(document: serde_json::Value) -> String {
    utf8_percent_encode(&document.to_string(), NON_ALPHANUMERIC).to_string()
}

fn iam_inline(name: &str, document: serde_json::Value) -> String {
    format!(
        "<member><PolicyName>{name}</PolicyName><PolicyDocument>{}</PolicyDocument></member>",
        iam_document(document)
    )
}

fn iam_attached(names_arns: &[(&str, &str)]) -> String {
    let members: String = names_arns
        .iter()
        .map(|(name, arn)| {
            format!("<member><PolicyName>{name}</PolicyName><PolicyArn>{arn}</PolicyArn></member>")
        })
        .collect();
    format!("<AttachedManagedPolicies>{members}</AttachedManagedPolicies>")
}

fn iam_managed(name: &str, arn: &str, attachments: u32, document: serde_json::Value) -> String {
    format!(
        "<member><PolicyName>{name}</PolicyName><PolicyId>ANPABENCH{name}</PolicyId><Arn>{arn}</Arn><Path>/</Path><DefaultVersionId>v2</DefaultVersionId><AttachmentCount>{attachments}</AttachmentCount><IsAttachable>true</IsAttachable><PolicyVersionList><member><Document>{}</Document><VersionId>v2</VersionId><IsDefaultVersion>true</IsDefaultVersion></member><member><Document>{}</Document><VersionId>v1</VersionId><IsDefaultVersion>false</IsDefaultVersion></member></PolicyVersionList></member>",
        iam_document(document),
        iam_document(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}]}))
    )
}

/// The account's `GetAccountAuthorizationDetails` answer, in one page.
fn iam_details_xml(account: &str) -> String {
    let arn = |kind: &str, name: &str| format!("arn:aws:iam::{account}:{kind}/{name}");
    let app_use = arn("policy", "kms-app-use");
    let key_admin = arn("policy", "kms-key-admin");
    let admin_access = "arn:aws:iam::aws:policy/AdministratorAccess";
    let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let doc =
        |statements: serde_json::Value| json!({"Version": "2012-10-17", "Statement": statements});
    let own_keys = format!("arn:aws:kms:*:{account}:key/*");
    let user = |name: &str, groups: &[&str], inline: String, attached: String| {
        let groups: String = groups
            .iter()
            .map(|g| format!("<member>{g}</member>"))
            .collect();
        format!(
            "<member><Path>/</Path><UserName>{name}</UserName><UserId>AIDABENCH{name}</UserId><Arn>{}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><UserPolicyList>{inline}</UserPolicyList><GroupList>{groups}</GroupList>{attached}<Tags/></member>",
            arn("user", name)
        )
    };
    let users = [
        user(
            "alice",
            &["developers", "key-admins"],
            iam_inline(
                "alice-kms",
                doc(json!([{"Sid": "OwnKeys", "Effect": "Allow",
                            "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": own_keys}])),
            ),
            iam_attached(&[]),
        ),
        user("bob", &["developers"], String::new(), iam_attached(&[])),
        user(
            "ci",
            &[],
            iam_inline(
                "ci-no-deletion",
                doc(json!([{"Effect": "Deny",
                            "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
                            "Resource": "*"}])),
            ),
            iam_attached(&[("kms-app-use", &app_use)]),
        ),
    ]
    .concat();
    let group = |name: &str, inline: String, attached: String| {
        format!(
            "<member><Path>/</Path><GroupName>{name}</GroupName><GroupId>AGPABENCH{name}</GroupId><Arn>{}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><GroupPolicyList>{inline}</GroupPolicyList>{attached}</member>",
            arn("group", name)
        )
    };
    let groups = [
        group(
            "developers",
            String::new(),
            iam_attached(&[("ReadOnlyAccess", read_only)]),
        ),
        group(
            "key-admins",
            iam_inline(
                "no-key-material",
                doc(json!([{"Effect": "Deny",
                            "Action": ["kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial"],
                            "Resource": "*"}])),
            ),
            iam_attached(&[("kms-key-admin", &key_admin)]),
        ),
    ]
    .concat();
    let role = |name: &str, inline: String, attached: String, boundary: Option<&str>| {
        let boundary = boundary
            .map(|b| format!("<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>{b}</PermissionsBoundaryArn></PermissionsBoundary>"))
            .unwrap_or_default();
        format!(
            "<member><Path>/</Path><RoleName>{name}</RoleName><RoleId>AROABENCH{name}</RoleId><Arn>{}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument><InstanceProfileList/><RolePolicyList>{inline}</RolePolicyList>{attached}{boundary}<Tags/><RoleLastUsed/></member>",
            arn("role", name),
            iam_document(doc(json!([{"Effect": "Allow",
                                     "Principal": {"Service": "ec2.amazonaws.com"},
                                     "Action": "sts:AssumeRole"}])))
        )
    };
    let roles = [
        role(
            "bench-app",
            iam_inline(
                "app-no-admin",
                doc(json!([{"Sid": "NoAdmin", "Effect": "Deny",
                            "NotAction": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*",
                                          "kms:Describe*"],
                            "Resource": "*"}])),
            ),
            iam_attached(&[("kms-app-use", &app_use)]),
            Some(&app_use),
        ),
        role(
            "bench-key-admin",
            String::new(),
            iam_attached(&[("kms-key-admin", &key_admin)]),
            None,
        ),
        role(
            "OrganizationAccountAccessRole",
            String::new(),
            iam_attached(&[("AdministratorAccess", admin_access)]),
            None,
        ),
    ]
    .concat();
    let policies = [
        iam_managed(
            "kms-app-use",
            &app_use,
            3,
            doc(json!([{"Sid": "UseKeys", "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*",
                                   "kms:DescribeKey"],
                        "Resource": "*"}])),
        ),
        iam_managed(
            "kms-key-admin",
            &key_admin,
            2,
            doc(json!([{"Sid": "AdministerKeys", "Effect": "Allow",
                        "NotAction": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                                      "kms:GenerateDataKey*", "kms:Sign", "kms:Verify",
                                      "kms:GenerateMac", "kms:VerifyMac",
                                      "kms:DeriveSharedSecret"],
                        "Resource": own_keys}])),
        ),
        iam_managed(
            "AdministratorAccess",
            admin_access,
            1,
            doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])),
        ),
        iam_managed(
            "ReadOnlyAccess",
            read_only,
            1,
            doc(json!([{"Effect": "Allow",
                        "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "iam:Get*",
                                   "iam:List*", "s3:Get*", "s3:List*"],
                        "Resource": "*"}])),
        ),
    ]
    .concat();
    format!(
        r#"<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountAuthorizationDetailsResult><UserDetailList>{users}</UserDetailList><GroupDetailList>{groups}</GroupDetailList><RoleDetailList>{roles}</RoleDetailList><Policies>{policies}</Policies><IsTruncated>false</IsTruncated></GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>bench-iam</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>"#
    )
}
