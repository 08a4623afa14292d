//! A small fault-injecting HTTP proxy between kms-audit and the emulator.
//!
//! The emulator lets every call succeed; real AWS does not. The proxy refuses chosen calls (by
//! operation, region, account or key) with the errors AWS sends, and logs every request, so tests
//! can show that failures become coverage gaps and that only read operations are sent.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What to answer instead of forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    AccessDenied,
    Throttling,
    InternalError,
    /// What AWS answers in an opt-in region the account has not enabled.
    RegionNotEnabled,
    /// Close the connection without answering (a network failure).
    DropConnection,
    /// Forward the request, but only after this many milliseconds.
    Slow(u64),
}

/// A request the proxy must refuse: every `Some` field must match.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// e.g. `DescribeKey`, `AssumeRole`, `ListKeys`.
    pub operation: Option<String>,
    pub region: Option<String>,
    /// The account acting (for AssumeRole: the account of the role being assumed).
    pub account: Option<String>,
    /// A substring of the request body, e.g. a key id.
    pub body_contains: Option<String>,
    /// Apply to this percentage of matching requests, chosen by a fixed pseudo-random sequence
    /// (so a run is reproducible); `None`: every matching request.
    pub percent: Option<u64>,
    /// Only requests to this service (`kms`, `tag`, `sts`, `organizations`, `iam`).
    pub service: Option<String>,
    pub fault: Option<Fault>,
}

impl Rule {
    pub fn deny() -> Rule {
        Rule {
            fault: Some(Fault::AccessDenied),
            ..Rule::default()
        }
    }
    pub fn with(fault: Fault) -> Rule {
        Rule {
            fault: Some(fault),
            ..Rule::default()
        }
    }
    pub fn operation(mut self, op: &str) -> Rule {
        self.operation = Some(op.to_string());
        self
    }
    pub fn region(mut self, region: &str) -> Rule {
        self.region = Some(region.to_string());
        self
    }
    pub fn account(mut self, account: &str) -> Rule {
        self.account = Some(account.to_string());
        self
    }
    pub fn percent(mut self, percent: u64) -> Rule {
        self.percent = Some(percent);
        self
    }
    pub fn service(mut self, service: &str) -> Rule {
        self.service = Some(service.to_string());
        self
    }
    pub fn body_contains(mut self, text: &str) -> Rule {
        self.body_contains = Some(text.to_string());
        self
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub service: String,
    pub operation: String,
    pub region: String,
    /// The account whose credentials signed the request (for AssumeRole: the role's account).
    pub account: Option<String>,
    /// The access key id of the SigV4 credential scope.
    pub access_key: String,
    pub refused: bool,
    /// For Security Hub's BatchImportFindings: each finding sent, as (Id, AwsAccountId, Region).
    pub findings: Vec<(String, String, String)>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    /// Requests seen so far: the input of the pseudo-random choice for `percent` rules.
    counter: u64,
    log: Vec<Seen>,
    /// Access key id → account, learned from AssumeRole answers (and the default credentials).
    accounts: HashMap<String, String>,
}

pub struct FaultProxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str, default_account: (&str, &str)) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        state
            .lock()
            .expect("state")
            .accounts
            .insert(default_account.0.to_string(), default_account.1.to_string());
        let stop = Arc::new(AtomicBool::new(false));
        {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let state = state.clone();
                    let upstream = upstream.clone();
                    std::thread::spawn(move || {
                        let _ = serve(stream, &upstream, &state);
                    });
                }
            });
        }
        FaultProxy {
            endpoint,
            state,
            stop,
        }
    }

    pub fn add_rule(&self, rule: Rule) {
        self.state.lock().expect("state").rules.push(rule);
    }

    pub fn log(&self) -> Vec<Seen> {
        self.state.lock().expect("state").log.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the stop flag.
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    fn form_param(&self, name: &str) -> Option<String> {
        let body = std::str::from_utf8(&self.body).ok()?;
        body.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| percent_decode(value))
        })
    }
}

/// Decodes an `application/x-www-form-urlencoded` value (`%XX` escapes, `+` for a space).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut request = Request {
        head,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    Ok(Some(request))
}

/// Serves one client connection: one request, one answer, then close (kept simple on purpose).
fn serve(stream: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut client = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let (service, region, access_key) = credential_scope(&request);
    let operation = request
        .header("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_string)
        .or_else(|| request.form_param("Action"))
        .or_else(|| rest_operation(&request))
        .unwrap_or_default();
    let acting_account = if operation == "AssumeRole" {
        request
            .form_param("RoleArn")
            .and_then(|arn| arn.split(':').nth(4).map(str::to_string))
    } else {
        state
            .lock()
            .expect("state")
            .accounts
            .get(&access_key)
            .cloned()
    };
    let body_text = String::from_utf8_lossy(&request.body).into_owned();

    let fault = {
        let mut state = state.lock().expect("state");
        state.counter += 1;
        let draw = splitmix(state.counter) % 100;
        state.rules.iter().find_map(|rule| {
            let matches = rule.operation.as_ref().is_none_or(|op| *op == operation)
                && rule.service.as_ref().is_none_or(|s| *s == service)
                && rule.percent.is_none_or(|p| draw < p)
                && rule.region.as_ref().is_none_or(|r| *r == region)
                && rule
                    .account
                    .as_ref()
                    .is_none_or(|a| acting_account.as_deref() == Some(a.as_str()))
                && rule
                    .body_contains
                    .as_ref()
                    .is_none_or(|text| body_text.contains(text.as_str()));
            if matches { rule.fault } else { None }
        })
    };
    let findings = if operation == "BatchImportFindings" {
        sent_findings(&request.body)
    } else {
        Vec::new()
    };
    state.lock().expect("state").log.push(Seen {
        service: service.clone(),
        operation: operation.clone(),
        region,
        account: acting_account.clone(),
        access_key: access_key.clone(),
        refused: fault.is_some_and(|f| !matches!(f, Fault::Slow(_))),
        findings,
    });

    match fault {
        Some(Fault::DropConnection) => {
            let _ = client.shutdown(std::net::Shutdown::Both);
            return Ok(());
        }
        Some(Fault::Slow(ms)) => std::thread::sleep(std::time::Duration::from_millis(ms)),
        Some(fault) => {
            let response = error_response(&service, &operation, fault);
            client.write_all(response.as_bytes())?;
            return client.flush();
        }
        None => {}
    }

    let mut upstream_conn = TcpStream::connect(upstream)?;
    for (i, line) in request.head.iter().enumerate() {
        let is_connection = i > 0
            && line
                .split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            upstream_conn.write_all(line.as_bytes())?;
            upstream_conn.write_all(b"\r\n")?;
        }
    }
    upstream_conn.write_all(b"Connection: close\r\n\r\n")?;
    upstream_conn.write_all(&request.body)?;
    let mut response = Vec::new();
    upstream_conn.read_to_end(&mut response)?;

    if operation == "AssumeRole" {
        learn_assumed_account(&response, acting_account.as_deref(), state);
    }
    client.write_all(&with_connection_close(&response))?;
    client.flush()
}

/// The operation of a REST-JSON request (Security Hub), from its method and path.
fn rest_operation(request: &Request) -> Option<String> {
    let mut line = request.head.first()?.split(' ');
    let method = line.next()?;
    let path = line.next()?.split('?').next()?;
    let operation = match (method, path) {
        ("POST", "/findings/import") => "BatchImportFindings",
        ("POST", "/findings") => "GetFindings",
        ("PATCH", "/findings/batchupdate") => "BatchUpdateFindings",
        ("POST", "/accounts") => "EnableSecurityHub",
        _ => return None,
    };
    Some(operation.to_string())
}

/// (Id, AwsAccountId, Region) of each finding in a BatchImportFindings body.
fn sent_findings(body: &[u8]) -> Vec<(String, String, String)> {
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    body["Findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .map(|f| {
                    let text = |field: &str| f[field].as_str().unwrap_or_default().to_string();
                    (text("Id"), text("AwsAccountId"), text("Region"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A well-mixed 64-bit hash of a counter (SplitMix64): reproducible "random" choices.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// (service, region, access key id) from the SigV4 Authorization header's credential scope.
fn credential_scope(request: &Request) -> (String, String, String) {
    let scope = request
        .header("authorization")
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_default();
    let mut parts = scope.split('/');
    let access_key = parts.next().unwrap_or_default().to_string();
    let _date = parts.next();
    let region = parts.next().unwrap_or_default().to_string();
    // Services are named by their IAM prefix, as in kms_audit::scan::aws::OPERATIONS.
    let service = match parts.next().unwrap_or_default() {
        "tagging" => "tag",
        other => other,
    }
    .to_string();
    (service, region, access_key)
}

fn learn_assumed_account(response: &[u8], account: Option<&str>, state: &Mutex<State>) {
    let text = String::from_utf8_lossy(response);
    let key = text
        .split("<AccessKeyId>")
        .nth(1)
        .and_then(|rest| rest.split("</AccessKeyId>").next());
    if let (Some(key), Some(account)) = (key, account) {
        state
            .lock()
            .expect("state")
            .accounts
            .insert(key.to_string(), account.to_string());
    }
}

/// Replaces the upstream's Connection header with `close`, since the proxy closes after one answer.
fn with_connection_close(response: &[u8]) -> Vec<u8> {
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..split]);
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        let is_connection = i > 0
            && line
                .split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&response[split + 4..]);
    bytes
}

/// The error AWS would send, in the service's protocol (JSON for KMS/Organizations, XML for STS
/// and IAM).
fn error_response(service: &str, operation: &str, fault: Fault) -> String {
    let (status, json_code, query_code, message) = match fault {
        Fault::AccessDenied => (
            "400 Bad Request",
            "AccessDeniedException",
            "AccessDenied",
            format!("kms-audit test proxy: not authorized to perform {service}:{operation}"),
        ),
        Fault::Throttling => (
            "400 Bad Request",
            "ThrottlingException",
            "Throttling",
            "Rate exceeded".to_string(),
        ),
        Fault::DropConnection | Fault::Slow(_) => unreachable!("not an error answer"),
        Fault::RegionNotEnabled => (
            "400 Bad Request",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "The security token included in the request is invalid.".to_string(),
        ),
        Fault::InternalError => (
            "500 Internal Server Error",
            "KMSInternalException",
            "InternalFailure",
            "kms-audit test proxy: internal error".to_string(),
        ),
    };
    if service == "securityhub" {
        // REST-JSON: the code in x-amzn-ErrorType and the body; throttling is HTTP 429.
        let (status, code) = match fault {
            Fault::AccessDenied => ("403 Forbidden", "AccessDeniedException"),
            Fault::Throttling => ("429 Too Many Requests", "TooManyRequestsException"),
            Fault::InternalError => ("500 Internal Server Error", "InternalException"),
            _ => ("403 Forbidden", "InvalidAccessException"),
        };
        let body = serde_json::json!({"Code": code, "Message": message}).to_string();
        return format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: kms-audit-proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
    if service == "sts" || service == "iam" {
        // The Query protocol: an XML ErrorResponse in the service's namespace.
        let status = if fault == Fault::AccessDenied {
            "403 Forbidden"
        } else {
            status
        };
        let namespace = if service == "iam" {
            "https://iam.amazonaws.com/doc/2010-05-08/"
        } else {
            "https://sts.amazonaws.com/doc/2011-06-15/"
        };
        let body = format!(
            "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>{query_code}</Code><Message>{message}</Message></Error><RequestId>kms-audit-proxy</RequestId></ErrorResponse>"
        );
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        let body = serde_json::json!({"__type": json_code, "message": message}).to_string();
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: kms-audit-proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }
}
