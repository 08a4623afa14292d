//! `kms-audit completions SHELL` and `kms-audit man`: what a release ships and a shell loads.

use crate::support;

use std::process::Command;

use support::cli::{Run, command, run};

fn kms_audit(args: &[&str]) -> Run {
    run(command().args(args))
}

const SUBCOMMANDS: [&str; 10] = [
    "scan",
    "report",
    "merge",
    "access",
    "checks",
    "explain",
    "spec",
    "completions",
    "man",
    "publish",
];

#[test]
fn every_shell_gets_a_completion_script_naming_the_subcommands_and_flags() {
    for (shell, marker) in [
        ("bash", "-F _kms__audit"),
        ("zsh", "#compdef kms-audit"),
        ("fish", "complete -c kms-audit"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = kms_audit(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stderr.is_empty(), "{shell}: {}", out.stderr);
        assert!(out.stdout.contains(marker), "{shell}: no {marker:?}");
        for word in ["scan", "merge", "shard", "endpoint-url", "fail-on"] {
            assert!(out.stdout.contains(word), "{shell} completes {word}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = kms_audit(&["completions", "tcsh"]);
    out.assert_refused("invalid value 'tcsh'");
    assert!(
        out.stderr.contains("bash, zsh, fish, powershell"),
        "{}",
        out.stderr
    );
}

/// Runs `script` in `bash` with the completion script of the built binary loaded; `None` when
/// bash is not installed (a failure under CI).
fn in_bash(script: &str) -> Option<std::process::Output> {
    let bin = support::cli::bin();
    let full = format!(
        "source <('{}' completions bash) || exit 9\n{script}",
        bin.display()
    );
    match Command::new("bash").arg("-c").arg(&full).output() {
        Ok(out) => Some(out),
        Err(err) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "bash is needed under CI: {err}"
            );
            eprintln!("skipped: bash is not installed ({err})");
            None
        }
    }
}

#[test]
fn bash_sources_the_completion_and_completes_subcommands_and_flags() {
    let Some(out) = in_bash("complete -p kms-audit") else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "complete -p kms-audit: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("kms-audit"), "{stdout}");

    // What bash offers after `kms-audit sc` and `kms-audit scan --sha`.
    let complete = |words: &str| {
        let script = format!(
            "COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             _kms__audit kms-audit \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = in_bash(&script).expect("bash ran before");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(complete("kms-audit sc"), ["scan"]);
    assert_eq!(complete("kms-audit scan --endpoint-u"), ["--endpoint-url"]);
    assert_eq!(complete("kms-audit completions p"), ["powershell"]);
    assert_eq!(complete("kms-audit spec validate --qu"), ["--quiet"]);
    assert_eq!(complete("kms-audit report --format sa"), ["sarif"]);
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let out = kms_audit(&["man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = &out.stdout;
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
    assert!(
        page.contains(".TH kms-audit 1"),
        "a .TH title line: {}",
        &page[..200]
    );
    assert!(page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"));
    assert!(page.contains(&format!("\"kms-audit {}\"", env!("CARGO_PKG_VERSION"))));
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("kms\\-audit\\-{sub}(1)")),
            "kms-audit.1 lists {sub}"
        );
    }
}

#[test]
fn man_dir_writes_one_page_per_subcommand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("share/man/man1");
    let out = kms_audit(&["man", "--dir", &target.display().to_string()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
    let mut names: Vec<String> = std::fs::read_dir(&target)
        .expect("the directory was created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = SUBCOMMANDS
        .iter()
        .map(|s| format!("kms-audit-{s}.1"))
        .chain([
            "kms-audit.1".to_string(),
            "kms-audit-spec-validate.1".to_string(),
            "kms-audit-spec-import.1".to_string(),
            "kms-audit-publish-securityhub.1".to_string(),
        ])
        .collect();
    expected.sort();
    assert_eq!(names, expected, "and no temporary files");

    let top = std::fs::read_to_string(target.join("kms-audit.1")).expect("kms-audit.1");
    assert_eq!(top, kms_audit(&["man"]).stdout, "the same page as stdout");
    let scan = std::fs::read_to_string(target.join("kms-audit-scan.1")).expect("scan page");
    assert!(scan.contains(".TH kms-audit-scan 1"), "{}", &scan[..200]);
    for flag in ["\\-\\-endpoint\\-url", "\\-\\-shard"] {
        assert!(scan.contains(flag), "kms-audit-scan.1 documents {flag}");
    }
}

#[test]
fn man_dir_that_cannot_be_created_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("file");
    let target = file.join("man1");
    let out = kms_audit(&["man", "--dir", &target.display().to_string()]);
    out.assert_refused(&format!(
        "could not create the directory {}",
        target.display()
    ));
}
