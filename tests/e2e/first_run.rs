//! A new user's first run and first failures: an endpoint that is down or silent, a bad `-o`
//! path, a profile that does not exist, an expired SSO session, no region, colour in logs, and
//! help texts that read whole. Each is one clear line and exit 2, fast, before any work is lost.

use crate::support;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use clap::CommandFactory;
use support::cli::{Run, command, run};
use support::emulator::Emulator;
use support::seed::{self, NewKey};

/// Nothing listens here: a request would fail with "connection refused".
const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

fn assert_one_line_error(out: &Run, needle: &str) {
    assert_eq!(
        out.code, 2,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.is_empty(), "no report: {}", out.stdout);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got:\n{}", out.stderr);
    assert!(lines[0].starts_with("kms-audit: error: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "{needle:?} in:\n{}", lines[0]);
}

/// A port that accepts connections and never answers (a firewall-swallowed proxy, a wrong
/// service): the accepted sockets are held open until the test ends.
fn silent_listener() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            match listener.accept() {
                Ok((mut socket, _)) => {
                    // Read the request, answer nothing.
                    let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf);
                    held.push(socket);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            if held.len() > 20 {
                break;
            }
        }
    });
    (endpoint, handle)
}

fn timed(cmd: &mut std::process::Command) -> (Run, Duration) {
    let start = Instant::now();
    let out = run(cmd);
    (out, start.elapsed())
}

#[test]
fn a_listener_that_never_answers_is_one_line_within_10_seconds() {
    let (endpoint, _listener) = silent_listener();
    let (out, elapsed) = timed(command().args([
        "scan",
        "--regions",
        "us-east-1",
        "--endpoint-url",
        &endpoint,
    ]));
    assert_one_line_error(
        &out,
        &format!(
            "cannot reach the AWS endpoint {endpoint}: it did not answer within 8 s \
             (sts:GetCallerIdentity). Check --endpoint-url / AWS_ENDPOINT_URL, the network, and \
             any proxy (HTTPS_PROXY, NO_PROXY)"
        ),
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(
        elapsed >= Duration::from_secs(7),
        "waited the limit: {elapsed:?}"
    );

    // --connect-timeout shortens the wait (1 s + 5 s for the answer).
    let (out, elapsed) = timed(command().args([
        "scan",
        "--regions",
        "us-east-1",
        "--connect-timeout",
        "1",
        "--endpoint-url",
        &endpoint,
    ]));
    assert_one_line_error(&out, "it did not answer within 6 s");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
}

#[test]
fn an_endpoint_with_nothing_listening_is_one_line_at_once() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (out, elapsed) = timed(command().args([
        "scan",
        "--regions",
        "us-east-1",
        "--endpoint-url",
        &endpoint,
    ]));
    assert_one_line_error(
        &out,
        &format!("cannot reach the AWS endpoint {endpoint}: could not connect: Connection refused"),
    );
    assert!(out.stderr.contains("--endpoint-url / AWS_ENDPOINT_URL"));
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A directory this process cannot create files in: a read-only one, or under root (which
/// ignores permission bits) sysfs, which refuses new files to everyone.
fn read_only_dir(scratch: &Path) -> std::path::PathBuf {
    let dir = scratch.join("read-only");
    std::fs::create_dir(&dir).expect("dir");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    if std::fs::File::create(dir.join("probe")).is_ok() {
        let _ = std::fs::remove_file(dir.join("probe"));
        return "/sys".into();
    }
    dir
}

#[test]
fn bad_output_paths_stop_scan_report_and_merge_before_any_work() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let missing = scratch.path().join("no-such-dir/scan.json");
    let read_only = read_only_dir(scratch.path());
    let in_read_only = read_only.join("scan.json");
    let good = scratch.path().join("good.json");
    let merge_fixtures = [
        "tests/fixtures/merge/shard-1-of-3.json",
        "tests/fixtures/merge/shard-2-of-3.json",
        "tests/fixtures/merge/shard-3-of-3.json",
    ];
    for (path, why) in [
        (
            &missing,
            format!(
                "the directory {} does not exist",
                scratch.path().join("no-such-dir").display()
            ),
        ),
        (
            &in_read_only,
            format!("the directory {} is not writable", read_only.display()),
        ),
    ] {
        let needle = format!("cannot write the sarif report to {}: {why}", path.display());
        let outputs = [
            "-o".to_string(),
            format!("json={}", good.display()),
            "-o".to_string(),
            format!("sarif={}", path.display()),
        ];
        // scan: nothing listens at the endpoint, so any AWS call would be a different error.
        let (out, elapsed) = timed(
            command()
                .args(["scan", "--endpoint-url", DEAD_ENDPOINT])
                .args(&outputs),
        );
        assert_one_line_error(&out, &needle);
        assert!(elapsed < Duration::from_secs(2), "at once: {elapsed:?}");
        let out = run(command()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["report", "tests/fixtures/reports/scan.json"])
            .args(&outputs));
        assert_one_line_error(&out, &needle);
        let out = run(command()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("merge")
            .args(merge_fixtures)
            .args(&outputs));
        assert_one_line_error(&out, &needle);
    }
    // No report, no probe file, nothing half-written was left behind.
    assert_eq!(files_in(scratch.path()), ["read-only"]);
    if read_only.starts_with(scratch.path()) {
        assert!(files_in(&read_only).is_empty());
    }
    // A directory given as the file.
    let out = run(command().args([
        "scan",
        "--endpoint-url",
        DEAD_ENDPOINT,
        "-o",
        &format!("json={}", scratch.path().display()),
    ]));
    assert_one_line_error(&out, "it is a directory; -o takes FORMAT=FILE");
}

/// An AWS config file defining `dev` (static keys) and an SSO profile.
fn aws_home(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[profile dev]\naws_access_key_id = AKIAKMSAUDITDEV00001\naws_secret_access_key = dev\nregion = eu-west-1\n\n\
         [profile corp-audit]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Audit\nregion = us-east-1\n\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .expect("config");
    config
}

#[test]
fn a_profile_that_does_not_exist_is_refused_even_with_environment_credentials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = aws_home(dir.path());
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        "[ci]\naws_access_key_id = A\naws_secret_access_key = B\n",
    )
    .expect("credentials");
    let files = format!("{} or {}", config.display(), credentials.display());
    let with_files = |cmd: &mut std::process::Command| {
        cmd.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
    };
    // The test environment has AWS_ACCESS_KEY_ID set: the SDK alone would use it silently.
    let mut cmd = command();
    with_files(&mut cmd);
    cmd.args(["scan", "--profile", "prod", "--endpoint-url", DEAD_ENDPOINT]);
    assert_one_line_error(
        &run(&mut cmd),
        &format!(
            "--profile prod: no such profile in {files} (profiles there: ci, corp-audit, dev); \
             check the name, or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the files \
             that define it"
        ),
    );
    let mut cmd = command();
    with_files(&mut cmd);
    cmd.env("AWS_PROFILE", "prod")
        .args(["scan", "--endpoint-url", DEAD_ENDPOINT]);
    assert_one_line_error(
        &run(&mut cmd),
        &format!("AWS_PROFILE prod: no such profile in {files}"),
    );

    // An existing profile is used, and says so (-v): its credentials and its region.
    let mut cmd = command();
    with_files(&mut cmd);
    cmd.env_remove("AWS_REGION").args([
        "-v",
        "scan",
        "--profile",
        "dev",
        "--endpoint-url",
        DEAD_ENDPOINT,
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "AWS credentials from profile dev (--profile); home region eu-west-1 (from profile dev or the instance metadata)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot reach the AWS endpoint"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_expired_sso_session_says_to_log_in_again() {
    let home = tempfile::tempdir().expect("tempdir");
    let aws = home.path().join(".aws");
    let cache = aws.join("sso/cache");
    std::fs::create_dir_all(&cache).expect("cache dir");
    let config = aws_home(&aws);
    // The SDK's token cache file is named by the SHA-1 of the session name.
    let sha1 = std::process::Command::new("sh")
        .args(["-c", "printf corp | sha1sum"])
        .output()
        .expect("sha1sum");
    let sha1 = String::from_utf8_lossy(&sha1.stdout);
    let sha1 = sha1.split_whitespace().next().expect("a digest");
    assert_eq!(sha1.len(), 40, "{sha1}");
    std::fs::write(
        cache.join(format!("{sha1}.json")),
        r#"{"accessToken": "expired-token", "expiresAt": "2021-01-01T00:00:00Z",
            "region": "us-east-1", "startUrl": "https://corp.awsapps.com/start"}"#,
    )
    .expect("token");
    let mut cmd = command();
    cmd.env("HOME", home.path())
        .env("AWS_CONFIG_FILE", &config)
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .args([
            "scan",
            "--profile",
            "corp-audit",
            "--endpoint-url",
            DEAD_ENDPOINT,
        ]);
    assert_one_line_error(
        &run(&mut cmd),
        "the AWS SSO session of profile corp-audit has expired: run `aws sso login --profile corp-audit`",
    );
}

#[test]
fn no_region_is_refused_with_what_to_set_and_region_sets_it() {
    let mut cmd = command();
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args(["scan", "--endpoint-url", DEAD_ENDPOINT]);
    assert_one_line_error(
        &run(&mut cmd),
        "no AWS region is set: pass --region (the home region, e.g. --region us-east-1), or set \
         AWS_REGION, or `region` in the profile",
    );
    let mut cmd = command();
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args([
            "-v",
            "scan",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            DEAD_ENDPOINT,
        ]);
    let out = run(&mut cmd);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(
            "AWS credentials from the environment (AWS_ACCESS_KEY_ID); home region eu-west-1 (from --region)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot reach the AWS endpoint"),
        "{}",
        out.stderr
    );
}

const ESC: u8 = 0x1b;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_scan_writes_no_escape_codes_unless_asked() {
    let emulator = Emulator::start();
    let endpoint = emulator.endpoint.as_str();
    let kms = seed::kms(endpoint, "us-east-1");
    // A key without an alias or rotation: findings, so the table has severity colours to give.
    seed::create_key(&kms, NewKey::default()).await;
    let scan = |color: Option<&str>, no_color: bool| {
        let mut cmd = command();
        cmd.env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        cmd.args(["-vv", "scan", "--regions", "us-east-1", "--format", "table"]);
        if let Some(color) = color {
            cmd.args(["--color", color]);
        }
        cmd.args(["--endpoint-url", endpoint]);
        let out = cmd.output().expect("kms-audit");
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "-vv logs");
        out
    };
    for (color, no_color) in [(None, false), (Some("auto"), false), (Some("never"), false)] {
        let out = scan(color, no_color);
        assert!(
            !out.stdout.contains(&ESC),
            "--color {color:?}: stdout has ESC"
        );
        assert!(
            !out.stderr.contains(&ESC),
            "--color {color:?}: stderr has ESC:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // --color always wins over the pipe and NO_COLOR, on both streams.
    let out = scan(Some("always"), true);
    assert!(out.stdout.contains(&ESC), "a coloured table");
    assert!(out.stderr.contains(&ESC), "a coloured log");
}

#[test]
fn every_scan_flag_help_renders_whole_in_help() {
    let help = run(command().args(["scan", "--help"]));
    assert_eq!(help.code, 0);
    let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let rendered = squash(&help.stdout);
    let cli = kms_audit::cli::Cli::command();
    let scan = cli.find_subcommand("scan").expect("scan");
    // Words a sentence cannot end with: a help text ending in one was cut short.
    const DANGLING: [&str; 14] = [
        "a", "an", "the", "of", "to", "and", "or", "with", "after", "all", "by", "for", "only",
        "is",
    ];
    let mut checked = 0;
    for arg in scan.get_arguments() {
        let Some(text) = arg.get_long_help().or(arg.get_help()) else {
            continue;
        };
        let text = squash(&text.to_string());
        assert!(
            rendered.contains(&text),
            "--{}: its help is not shown whole:\n{text}",
            arg.get_id()
        );
        let last = text
            .trim_end_matches(['.', ')'])
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            !DANGLING.contains(&last.as_str()),
            "--{}: the help stops mid-sentence: {text}",
            arg.get_id()
        );
        checked += 1;
    }
    assert!(checked > 30, "{checked} flags");
    assert!(
        rendered.contains(
            "A key's field is recorded as a coverage gap only when every attempt has failed"
        ),
        "--max-attempts"
    );
}
