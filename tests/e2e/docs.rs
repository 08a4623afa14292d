//! The documentation holds together: every relative link in the README, ARCHITECTURE.md,
//! CONTRIBUTING.md, the CHANGELOG and docs/*.md names a file that exists, and every `#anchor` a
//! heading of its target (GitHub's slugs); the README stays a front page under 20,000 bytes; and
//! nothing in the repository cites the design document that was never in it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::emulator::repo_root;

/// The pages whose links are checked, relative to the repository root.
fn pages() -> Vec<PathBuf> {
    let root = repo_root();
    let mut pages: Vec<PathBuf> = [
        "README.md",
        "ARCHITECTURE.md",
        "CONTRIBUTING.md",
        "CHANGELOG.md",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|entry| entry.expect("docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| {
            path.strip_prefix(&root)
                .expect("under the root")
                .to_path_buf()
        })
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// A link as written: its line and its target (`path`, `path#anchor` or `#anchor`).
#[derive(Debug, PartialEq)]
struct Link {
    line: usize,
    target: String,
}

/// The lines of a Markdown text that are prose: fenced code blocks become empty lines (their
/// `[x](y)` and `# comments` are not links or headings) and inline code spans are blanked.
fn prose(text: &str) -> Vec<String> {
    let mut fence: Option<&str> = None;
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
            match (fence, marker) {
                (None, Some(m)) => {
                    fence = Some(m);
                    String::new()
                }
                (Some(open), Some(m)) if open == m => {
                    fence = None;
                    String::new()
                }
                (Some(_), _) => String::new(),
                (None, None) => without_code_spans(line),
            }
        })
        .collect()
}

/// The line with every `` `code` `` span's content (and its backticks) taken out.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..open]);
        let ticks = rest[open..].len() - rest[open..].trim_start_matches('`').len();
        let after = &rest[open + ticks..];
        match after.find(&"`".repeat(ticks)) {
            Some(close) => rest = &after[close + ticks..],
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every link of a Markdown text that is not absolute: inline links and images
/// (`[text](target "title")`) and reference definitions (`[label]: target`).
fn relative_links(text: &str) -> Vec<Link> {
    let mut links = Vec::new();
    for (i, line) in prose(text).iter().enumerate() {
        let mut targets = Vec::new();
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let inside = after[..end].trim();
            let target = inside.split_whitespace().next().unwrap_or("");
            targets.push(target.trim_start_matches('<').trim_end_matches('>'));
            rest = &after[end..];
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some((label, target)) = trimmed.split_once("]:")
            && !label.contains("](")
        {
            targets.push(target.split_whitespace().next().unwrap_or(""));
        }
        for target in targets {
            if !target.is_empty() && !is_absolute(target) {
                links.push(Link {
                    line: i + 1,
                    target: target.to_string(),
                });
            }
        }
    }
    links
}

/// `https:`, `mailto:` and any other scheme.
fn is_absolute(target: &str) -> bool {
    target.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// GitHub's anchor of a heading text: lower case; letters, digits, `-` and `_` kept, other
/// punctuation dropped, every space a `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// What a heading's text renders as: links become their text, code spans their content.
fn rendered(heading: &str) -> String {
    let mut out = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) => {
                out.push_str(&after[..close]);
                rest = &after[close + 1..];
                if let Some(inside) = rest.strip_prefix('(') {
                    rest = inside.split_once(')').map_or("", |(_, tail)| tail);
                }
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace('`', "")
}

/// The anchors of a Markdown text's headings, with GitHub's `-1`, `-2` for repeated ones.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(m) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
            fence = match fence {
                None => Some(m),
                Some(open) if open == m => None,
                open => open,
            };
            continue;
        }
        if fence.is_some() || line.starts_with("    ") {
            continue;
        }
        let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
        let text = &trimmed[hashes..];
        if !(1..=6).contains(&hashes) || !(text.is_empty() || text.starts_with(' ')) {
            continue;
        }
        let base = slug(&rendered(text.trim().trim_end_matches('#')));
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.insert(match *count {
            0 => base,
            n => format!("{base}-{n}"),
        });
        *count += 1;
    }
    anchors
}

/// What is wrong with one link of `page` (a path relative to `root`), if anything.
fn problem(root: &Path, page: &Path, target: &str) -> Option<String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        root.join(page)
    } else if let Some(from_root) = path.strip_prefix('/') {
        root.join(from_root)
    } else {
        root.join(page)
            .parent()
            .expect("a page's directory")
            .join(path)
    };
    if !file.exists() {
        return Some(format!("{} does not exist", file.display()));
    }
    let anchor = anchor?;
    if file.extension().is_none_or(|e| e != "md") {
        return Some(format!(
            "#{anchor} points into {}, which has no headings",
            file.display()
        ));
    }
    let text = std::fs::read_to_string(&file).expect("a linked page");
    let known = anchors(&text);
    (!known.contains(anchor)).then(|| {
        format!(
            "{} has no heading #{anchor} (its anchors: {})",
            file.display(),
            known.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

/// Every broken link of `page`, as `page:line: target: why`.
fn broken_links(root: &Path, page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join(page))
        .unwrap_or_else(|err| panic!("{}: {err}", page.display()));
    relative_links(&text)
        .into_iter()
        .filter_map(|link| {
            problem(root, page, &link.target)
                .map(|why| format!("{}:{}: {}: {why}", page.display(), link.line, link.target))
        })
        .collect()
}

#[test]
fn every_relative_link_in_the_docs_names_a_file_and_a_heading_that_exist() {
    let root = repo_root();
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(root.join(&page)).expect("a page");
        checked += relative_links(&text).len();
        broken.extend(broken_links(&root, &page));
    }
    assert!(checked > 100, "only {checked} relative links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_finds_a_missing_file_and_a_missing_anchor() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("docs")).expect("docs/");
    std::fs::write(
        dir.path().join("docs/guide.md"),
        "# Guide\n\n## Re-checking a saved scan: `kms-audit report`\n\n## Options\n\n## Options\n\n\
         ```sh\n# not a heading\n```\n",
    )
    .expect("guide");
    std::fs::write(
        dir.path().join("README.md"),
        "See [the guide](docs/guide.md#re-checking-a-saved-scan-kms-audit-report), \
         [options](docs/guide.md#options-1), ![shot](docs/guide.md) and [top](#readme).\n\
         # Readme\n\
         [gone](docs/gone.md) and [no such heading](docs/guide.md#not-a-heading), \
         [elsewhere](https://example.com/x.md#y), `[code](not-a-link.md)`.\n\
         ```\n[fenced](not-a-link-either.md)\n```\n\
         [ref]: docs/missing.md\n",
    )
    .expect("README");
    let broken = broken_links(dir.path(), Path::new("README.md"));
    let targets: Vec<&str> = broken
        .iter()
        .map(|b| b.split(": ").nth(1).expect("a target"))
        .collect();
    assert_eq!(
        targets,
        [
            "docs/gone.md",
            "docs/guide.md#not-a-heading",
            "docs/missing.md"
        ],
        "{broken:#?}"
    );
    assert!(broken[0].starts_with("README.md:3: "), "{}", broken[0]);
}

#[test]
fn anchors_follow_githubs_slugs() {
    let text = "# Scanning: what is read, how, and what happens when AWS says no\n\
                ## `--exit-zero-on`\n## Closing fixed findings: `--baseline`\n\
                ## [0.1.0] - 2026-11-30\n## Why a bundled region list instead of EC2 `DescribeRegions`\n\
                ## shard_merge\n## Options\n## Options\n## Options\n#hashtag\n    # indented code\n";
    let want: BTreeSet<String> = [
        "scanning-what-is-read-how-and-what-happens-when-aws-says-no",
        "--exit-zero-on",
        "closing-fixed-findings---baseline",
        "010---2026-11-30",
        "why-a-bundled-region-list-instead-of-ec2-describeregions",
        "shard_merge",
        "options",
        "options-1",
        "options-2",
    ]
    .map(String::from)
    .into();
    assert_eq!(anchors(text), want);
}

#[test]
fn the_readme_is_a_front_page_under_20000_bytes() {
    let size = std::fs::metadata(repo_root().join("README.md"))
        .expect("README.md")
        .len();
    assert!(size < 20_000, "README.md is {size} bytes");
}

/// Directories that are not the project's own files.
const NOT_THE_PROJECTS: [&str; 5] = [".git", "target", ".venv", ".tools", "node_modules"];

/// Every file under `dir` (symbolic links are not followed), but for [`NOT_THE_PROJECTS`]. What
/// vanishes while it looks (a test's scratch file) is passed over.
fn project_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if NOT_THE_PROJECTS
            .iter()
            .any(|skip| entry.file_name() == *skip)
        {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => project_files(&entry.path(), out),
            Ok(kind) if kind.is_file() => out.push(entry.path()),
            _ => {}
        }
    }
}

#[test]
fn nothing_cites_a_design_document_outside_the_repository() {
    // Spelled in two pieces so that this file does not cite it either.
    let needle = concat!("DESIGN", ".md").as_bytes();
    let root = repo_root();
    let mut files = Vec::new();
    project_files(&root, &mut files);
    assert!(files.len() > 100, "only {} files found", files.len());
    let citing: Vec<String> = files
        .iter()
        .filter(|path| {
            std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        })
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        citing.is_empty(),
        "these files cite {}, which is not in the repository (ARCHITECTURE.md and docs/ hold \
         what it held): {citing:?}",
        String::from_utf8_lossy(needle)
    );
}
