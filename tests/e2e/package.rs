//! The release tarball (scripts/package.sh), as a user meets it: unpacked into an empty
//! directory, its checksums verified, its binary run from there.
//!
//! The tarball is dist/kms-audit-VERSION-ARCH-unknown-linux-gnu.tar.gz (`KMS_AUDIT_TARBALL`
//! overrides). Without it the test skips with the reason, except under `CI=true`, where it fails.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn triple() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

fn tarball() -> Option<PathBuf> {
    let path = std::env::var_os("KMS_AUDIT_TARBALL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            root()
                .join("dist")
                .join(format!("kms-audit-{VERSION}-{}.tar.gz", triple()))
        });
    if path.is_file() {
        return Some(path);
    }
    let problem = format!("{} is missing: run scripts/package.sh", path.display());
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{problem}");
    }
    eprintln!("skipped: {problem}");
    None
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file under `dir`, as paths relative to it.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("under base");
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn run(dir: &Path, program: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("KMS_AUDIT_LOG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_release_tarball_unpacks_verifies_and_runs() {
    let Some(tarball) = tarball() else { return };
    let name = tarball
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name")
        .to_string();
    let top = name.strip_suffix(".tar.gz").expect(".tar.gz").to_string();

    // The published checksum of the tarball.
    let sum_file = tarball.with_file_name(format!("{name}.sha256"));
    let published = std::fs::read_to_string(&sum_file)
        .unwrap_or_else(|e| panic!("{}: {e}", sum_file.display()));
    assert_eq!(published, format!("{}  {name}\n", sha256(&tarball)));

    // Unpacked into an empty directory: one top-level directory, nothing else.
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, _, stderr) = run(
        dir.path(),
        "tar",
        &["-xzf", tarball.to_str().expect("utf-8 path")],
    );
    assert_eq!(code, 0, "tar: {stderr}");
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec![top.clone()]);
    let unpacked = dir.path().join(&top);

    // What is inside.
    let got = files(&unpacked);
    let mut want: BTreeSet<String> = [
        "kms-audit",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "SHA256SUMS",
        "completions/kms-audit.bash",
        "completions/_kms-audit",
        "completions/kms-audit.fish",
        "completions/_kms-audit.ps1",
    ]
    .map(String::from)
    .into_iter()
    .collect();
    let checks: BTreeSet<String> = files(&root().join("checks"));
    assert!(checks.len() >= 10, "the repository's checks catalog");
    want.extend(checks.iter().map(|c| format!("checks/{c}")));
    let man: BTreeSet<&String> = got.iter().filter(|f| f.starts_with("man/man1/")).collect();
    assert!(
        man.contains(&"man/man1/kms-audit.1".to_string()),
        "the man page: {man:?}"
    );
    assert!(
        man.iter().all(|m| m.ends_with(".1")),
        "section 1 pages: {man:?}"
    );
    want.extend(man.into_iter().cloned());
    assert_eq!(got, want, "the tarball's files");
    for file in ["README.md", "LICENSE", "CHANGELOG.md"] {
        assert_eq!(
            std::fs::read(unpacked.join(file)).expect("unpacked"),
            std::fs::read(root().join(file)).expect("repository"),
            "{file} as in the repository"
        );
    }
    for check in &checks {
        assert_eq!(
            std::fs::read(unpacked.join("checks").join(check)).expect("unpacked"),
            std::fs::read(root().join("checks").join(check)).expect("repository"),
            "checks/{check} as in the repository"
        );
    }
    let mode = std::fs::metadata(unpacked.join("kms-audit"))
        .expect("binary")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "the binary is executable");

    // SHA256SUMS lists every other file once, with its digest.
    let sums = std::fs::read_to_string(unpacked.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut listed = BTreeSet::new();
    for line in sums.lines() {
        let (digest, file) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("not `DIGEST  FILE`: {line}"));
        assert_eq!(digest, sha256(&unpacked.join(file)), "{file}");
        assert!(listed.insert(file.to_string()), "{file} listed twice");
    }
    let mut others = got.clone();
    others.remove("SHA256SUMS");
    assert_eq!(listed, others, "SHA256SUMS covers every other file");
    let (code, stdout, stderr) = run(&unpacked, "sha256sum", &["-c", "--strict", "SHA256SUMS"]);
    assert_eq!(code, 0, "sha256sum -c: {stdout}{stderr}");
    // ... and catches a changed file.
    let copy = tempfile::tempdir().expect("temp dir");
    std::fs::copy(unpacked.join("SHA256SUMS"), copy.path().join("SHA256SUMS")).expect("copy");
    for file in &others {
        let to = copy.path().join(file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(unpacked.join(file), &to).expect("copy");
    }
    std::fs::write(copy.path().join("README.md"), "changed\n").expect("write");
    let (code, stdout, _) = run(copy.path(), "sha256sum", &["-c", "--quiet", "SHA256SUMS"]);
    assert_eq!(code, 1, "a changed file fails the check");
    assert_eq!(stdout.trim(), "README.md: FAILED");

    // The binary runs from where it was unpacked.
    let (code, stdout, stderr) = run(&unpacked, "./kms-audit", &["--version"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("kms-audit {VERSION}\n"));
    let (code, stdout, stderr) = run(&unpacked, "./kms-audit", &["checks"]);
    assert_eq!(code, 0, "{stderr}");
    // `kms-audit checks` lists the checks the registries run; SUP001 (checks/SUP001.yaml) is
    // raised by the suppressions file and documented by `kms-audit explain SUP001`.
    for meta in kms_audit::analysis::catalog().all() {
        let id = meta.id.as_str();
        assert!(
            checks.contains(&format!("{id}.yaml")),
            "the tarball carries checks/{id}.yaml"
        );
        assert!(
            stdout.contains(id),
            "`kms-audit checks` lists {id}:\n{stdout}"
        );
    }
    let (code, stdout, stderr) = run(&unpacked, "./kms-audit", &["explain", "SUP001"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("expired-suppression"), "{stdout}");

    // The completions and the man page are what the binary generates.
    for (shell, file) in [
        ("bash", "kms-audit.bash"),
        ("zsh", "_kms-audit"),
        ("fish", "kms-audit.fish"),
        ("powershell", "_kms-audit.ps1"),
    ] {
        let (code, stdout, stderr) = run(&unpacked, "./kms-audit", &["completions", shell]);
        assert_eq!(code, 0, "completions {shell}: {stderr}");
        assert_eq!(
            stdout,
            std::fs::read_to_string(unpacked.join("completions").join(file)).expect("read"),
            "completions/{file}"
        );
    }
    let (code, stdout, stderr) = run(
        &unpacked,
        "bash",
        &[
            "--norc",
            "-c",
            "source completions/kms-audit.bash && complete -p kms-audit",
        ],
    );
    assert_eq!(code, 0, "bash sources the completion: {stderr}");
    assert!(stdout.contains("kms-audit"), "{stdout}");
    let page = std::fs::read_to_string(unpacked.join("man/man1/kms-audit.1")).expect("man page");
    assert!(page.contains(".TH kms-audit 1"), "a roff page:\n{page}");
}
