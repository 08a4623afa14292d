//! The HTML report in a real browser: headless Chromium opens the report of the test
//! organization (scanned in the emulator) from a file:// URL, and the DOM it draws is checked:
//! the counts per severity, filtered views from the URL fragment, a key's detail, and text from
//! AWS that tries to be markup staying inert. A screenshot is kept under target/browser/.
//!
//! Chromium comes from `scripts/setup-chromium.sh` (Debian's `chromium`). Under `CI=true` a
//! missing browser fails these tests; elsewhere they print why and pass.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{command, json_report, run};
use support::demo::{REGIONS, seed_demo};
use support::emulator::Emulator;
use support::{org, seed};

/// What a key description and a tag value plant: markup that would mark the page if it ran.
const EVIL_SCRIPT: &str = "<script>document.body.setAttribute('data-pwned','script')</script>";
const EVIL_IMG: &str = "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">";

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KMS_AUDIT_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The browser, or `None` (with the reason printed) outside CI.
fn browser_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "chromium is not installed: run scripts/setup-chromium.sh (CI=true, so this fails)"
        );
        eprintln!("skipped: chromium is not installed (scripts/setup-chromium.sh installs it)");
    }
    found
}

/// Where test artifacts go: target/browser/ (beside cargo's own target/tmp).
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("browser");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// Headless Chromium, isolated: its own empty profile, no network services of its own.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

/// The DOM Chromium has drawn for `page#fragment`, and how long it took.
fn dump_dom(browser: &Path, page: &Path, fragment: &str) -> (String, Duration) {
    let profile = tempfile::tempdir().expect("profile");
    let started = Instant::now();
    let output = headless(browser, profile.path())
        .arg("--dump-dom")
        .arg(format!("file://{}#{fragment}", page.display()))
        .output()
        .expect("run chromium");
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dom = String::from_utf8(output.stdout).expect("utf-8 DOM");
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script ran to the end:\n{}",
        &dom[..dom.len().min(2000)]
    );
    (dom, took)
}

fn screenshot(browser: &Path, page: &Path, fragment: &str, png: &Path, size: &str) {
    let profile = tempfile::tempdir().expect("profile");
    let output = headless(browser, profile.path())
        .arg(format!("--window-size={size}"))
        .arg("--hide-scrollbars")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}#{fragment}", page.display()))
        .output()
        .expect("run chromium");
    assert!(output.status.success(), "screenshot failed");
    let bytes = std::fs::read(png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
}

/// The text of the element that has `attr` (e.g. `data-sev="high"`), for simple leaf elements.
fn text_of<'a>(dom: &'a str, attr: &str) -> Option<&'a str> {
    let at = dom.find(attr)?;
    let start = at + dom[at..].find('>')? + 1;
    let end = start + dom[start..].find('<')?;
    Some(&dom[start..end])
}

fn rows(dom: &str) -> Vec<(&str, &str)> {
    // <tr class="finding" data-check="X" data-sev="Y" data-account="Z">
    dom.match_indices("<tr class=\"finding")
        .map(|(at, _)| {
            let tag = &dom[at..at + dom[at..].find('>').expect("tag end")];
            let attr = |name: &str| {
                let key = format!("{name}=\"");
                let start = tag.find(&key).expect("attribute") + key.len();
                &tag[start..start + tag[start..].find('"').expect("quote")]
            };
            (attr("data-check"), attr("data-sev"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_the_test_organization_in_headless_chromium() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let emulator = Emulator::start();
    let org = seed_demo(&emulator.endpoint).await;
    // A key whose description and tag are markup, as an attacker with CreateKey could write.
    let prod = org::kms_in(&emulator.endpoint, &org.prod, REGIONS[0]).await;
    let evil = seed::create_key(
        &prod,
        seed::NewKey {
            description: Some(&format!("{EVIL_SCRIPT} {EVIL_IMG}")),
            tags: &[("owner", EVIL_IMG), ("note", EVIL_SCRIPT)],
            ..seed::NewKey::default()
        },
    )
    .await;
    let evil_arn = evil.arn().expect("arn").to_string();

    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    let json = dir.path().join("scan.json");
    let report = json_report(
        &emulator.endpoint,
        &[
            "scan",
            "--org",
            "--regions",
            &REGIONS.join(","),
            "-o",
            &format!("html={}", page.display()),
            "-o",
            &format!("json={}", json.display()),
        ],
    );
    assert_eq!(report["summary"]["gaps"], 0);
    let html = std::fs::read_to_string(&page).expect("page");
    // The file itself: the planted markup only ever appears escaped inside the data block.
    assert!(!html.contains("<img"), "no planted <img> in the file");
    assert_eq!(
        html.matches("<script").count(),
        2,
        "only the page's own scripts"
    );

    // The overview: the counts per severity are the JSON report's.
    let (dom, took) = dump_dom(&browser, &page, "");
    eprintln!("page drawn in {took:?}");
    assert!(dom.contains("id=\"complete\""), "a complete scan says so");
    let mut total = 0;
    for severity in ["critical", "high", "medium", "low", "info"] {
        let expected = report["summary"]["findings"][severity]
            .as_u64()
            .expect("count");
        let shown = text_of(&dom, &format!("data-sev=\"{severity}\">")).unwrap_or_default();
        // The td is `<td class="num" data-sev="S">N</td>`.
        assert_eq!(shown, expected.to_string(), "{severity}");
        total += expected;
    }
    assert!(total > 0);
    // The demo has exactly one public key policy (POL001, critical).
    assert_eq!(report["summary"]["findings"]["critical"], 1);

    // A filtered view from the fragment: high findings of the sandbox account.
    let fragment = format!("sev=high&account={}", org.sandbox);
    let (dom, _) = dump_dom(&browser, &page, &fragment);
    let expected: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["severity"] == "high"
                && f["account"] == org.sandbox.as_str()
                && f["suppressed"].is_null()
        })
        .collect();
    assert!(!expected.is_empty(), "the sandbox has high findings");
    assert_eq!(
        text_of(&dom, "id=\"shown\">"),
        Some(expected.len().to_string().as_str())
    );
    let shown = rows(&dom);
    assert_eq!(shown.len(), expected.len());
    assert!(shown.iter().all(|(_, sev)| *sev == "high"));
    let mut checks: Vec<&str> = shown.iter().map(|(check, _)| *check).collect();
    let mut want: Vec<&str> = expected
        .iter()
        .map(|f| f["check_id"].as_str().expect("id"))
        .collect();
    checks.sort();
    want.sort();
    assert_eq!(checks, want);

    // The planted key's detail: its description and tags are on the page as text, inert.
    let (dom, _) = dump_dom(&browser, &page, &format!("key={evil_arn}"));
    assert!(!dom.contains("data-pwned=\""), "no planted script ran");
    assert!(!dom.contains("<img"), "no planted element exists");
    assert!(
        dom.contains(
            "&lt;script&gt;document.body.setAttribute('data-pwned','script')&lt;/script&gt;"
        ),
        "the description is shown as text"
    );
    assert!(dom.contains("id=\"key-tags\""), "the tags are shown");
    assert!(
        dom.contains("\"&gt;&lt;img src=x onerror=\"document.body"),
        "the tag value is shown as text"
    );

    // The public key's detail highlights the statement that opens it.
    let public = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check_id"] == "POL001")
        .expect("POL001");
    let (dom, _) = dump_dom(
        &browser,
        &page,
        &format!("key={}", public["key_arn"].as_str().expect("arn")),
    );
    assert_eq!(
        dom.matches("class=\"stmt offending\"").count(),
        1,
        "one statement"
    );
    let at = dom.find("class=\"stmt offending\"").expect("highlight");
    assert!(dom[at..at + 400].contains("ShareWithEveryone"));
    // Its access: the statement that opens it gives any principal use of the key.
    let access = dom.find("id=\"key-access\"").expect("the access section");
    let use_table = dom[access..]
        .find("data-class=\"use\"")
        .map(|at| &dom[access + at..])
        .expect("a use table");
    let use_table = &use_table[..use_table.find("</table>").expect("table end")];
    assert!(
        use_table.contains("<td>any principal</td>") && use_table.contains("ShareWithEveryone"),
        "{use_table}"
    );

    // The compliance tab: FSBP KMS.1 passes (every account's IAM was read, and no
    // customer-managed policy decrypts with every key), KMS.5 fails (the public key).
    let (dom, _) = dump_dom(&browser, &page, "tab=compliance");
    assert!(
        dom.contains("data-control=\"KMS.1\" data-status=\"pass\""),
        "{}",
        dom.find("data-control=\"KMS.1\"")
            .map_or("", |at| &dom[at..(at + 80).min(dom.len())])
    );
    assert!(dom.contains("data-control=\"KMS.5\" data-status=\"fail\""));

    let png = artifacts().join("test-organization-report.png");
    screenshot(&browser, &page, "", &png, "1280,1000");
    eprintln!("screenshot: {}", png.display());

    // The page renders from the JSON report offline, byte for byte the same.
    let again = run(command().arg("report").arg(&json).args([
        "--keep-findings",
        "--fail-on",
        "none",
        "--format",
        "html",
    ]));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, html, "the same page from the saved scan");
}

#[test]
fn an_incomplete_scan_looks_incomplete() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("fixture.html");
    let out = run(command().current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "report",
        "tests/fixtures/reports/scan.json",
        "--keep-findings",
        "--fail-on",
        "none",
        "-o",
        &format!("html={}", page.display()),
        "--format",
        "json",
    ]));
    assert_eq!(out.code, 3, "an incomplete scan exits 3: {}", out.stderr);
    let (dom, _) = dump_dom(&browser, &page, "");
    assert!(dom.contains("id=\"incomplete\""), "the banner is there");
    assert!(dom.contains("INCOMPLETE SCAN: 2 coverage gaps, 1 account-region failed."));
    let (dom, _) = dump_dom(&browser, &page, "tab=gaps");
    assert!(dom.contains("ListKeys"));
    assert!(dom.contains("AccessDeniedException"));
    // No control passes over all accounts: 222222222222 lost a region.
    let (dom, _) = dump_dom(&browser, &page, "tab=compliance");
    assert!(dom.contains("data-status=\"not_evaluated\""));
    assert!(!dom.contains("data-status=\"pass\""));
}
