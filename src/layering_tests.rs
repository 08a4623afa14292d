//! The layout rules of ARCHITECTURE.md, checked on the source tree: imports go down the wings
//! only, `scan` and `analysis` never import each other, and no two sibling modules import each
//! other (directly or around a circle).
//!
//! The check reads `src/` as text: every `crate::a::b` and `super::x` path outside comments is an
//! import of the longest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The wings, from the floor up. A wing may import only wings of a lower rank; two wings of the
/// same rank never import each other.
const WINGS: &[(&str, u8)] = &[
    ("model", 0),
    ("policy", 1),
    ("catalog", 1),
    ("inputs", 2),
    ("scan", 3),
    ("analysis", 3),
    ("report", 4),
    ("publish", 5),
    ("cli", 6),
];

/// Circles of sibling modules tolerated while they are taken apart (none today). The test fails
/// when one of them is gone, so the list only shrinks.
const KNOWN_CIRCLES: &[&[&str]] = &[];

type ModPath = Vec<String>;

fn rank(wing: &str) -> Option<u8> {
    WINGS
        .iter()
        .find(|(name, _)| *name == wing)
        .map(|(_, r)| *r)
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("src/ is readable");
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b/mod.rs` → `a::b`, `src/a/c.rs` → `a::c`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: ModPath = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without its comments (doc links are not imports).
fn code_lines(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.trim_start().starts_with("//") {
                ""
            } else {
                line.split("//").next().unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `prefix::a::b…` path in `code`, as its segments.
fn paths_after(code: &str, prefix: &str) -> Vec<ModPath> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(offset) = code[at..].find(prefix) {
        let start = at + offset;
        at = start + prefix.len();
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        if !boundary {
            continue;
        }
        let rest = &code[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let segments: ModPath = rest[..end]
            .split("::")
            .take_while(|s| {
                !s.is_empty() && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            })
            .map(str::to_string)
            .collect();
        if !segments.is_empty() {
            found.push(segments);
        }
    }
    found
}

/// Module → the modules it imports (the longest existing module each path names).
fn import_graph() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let modules: BTreeMap<ModPath, PathBuf> = files
        .into_iter()
        .map(|f| (module_of(&src, &f), f))
        .filter(|(m, _)| {
            !(m.len() == 1 && (m[0] == "lib" || m[0] == "main" || m[0] == "layering_tests"))
        })
        .collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let code = code_lines(&std::fs::read_to_string(file).expect("source is readable"));
        let is_dir_module = file.ends_with("mod.rs");
        let parent: ModPath = if is_dir_module {
            module[..module.len().saturating_sub(1)].to_vec()
        } else {
            module[..module.len() - 1].to_vec()
        };
        let mut refs = paths_after(&code, "crate::");
        for path in paths_after(&code, "super::") {
            refs.push(parent.iter().cloned().chain(path).collect());
        }
        let mut targets = BTreeSet::new();
        for path in refs {
            if let Some(target) = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains_key(p))
                && &target != module
            {
                targets.insert(target);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

#[test]
fn wings_import_only_downwards() {
    let mut violations = Vec::new();
    for (module, targets) in import_graph() {
        let from = &module[0];
        let Some(from_rank) = rank(from) else {
            violations.push(format!(
                "{}: not in a wing of ARCHITECTURE.md",
                module.join("::")
            ));
            continue;
        };
        for target in targets {
            let to = &target[0];
            if to == from {
                continue;
            }
            match rank(to) {
                Some(to_rank) if to_rank < from_rank => {}
                _ => violations.push(format!(
                    "{} imports {} (wing {from} may import only wings below it)",
                    module.join("::"),
                    target.join("::")
                )),
            }
        }
    }
    assert!(
        violations.is_empty(),
        "upward or sideways imports:\n{}",
        violations.join("\n")
    );
}

/// The circles (strongly connected components of two or more) among sibling modules.
fn sibling_circles() -> BTreeSet<Vec<String>> {
    let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (from, targets) in import_graph() {
        for to in targets {
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            // A module and its own descendants or ancestors are not siblings.
            if common < from.len() && common < to.len() {
                edges
                    .entry(from[..=common].to_vec())
                    .or_default()
                    .insert(to[..=common].to_vec());
            }
        }
    }
    let nodes: BTreeSet<ModPath> = edges
        .iter()
        .flat_map(|(k, v)| std::iter::once(k.clone()).chain(v.iter().cloned()))
        .collect();
    let reaches = |from: &ModPath, to: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if next == to {
                    return true;
                }
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        false
    };
    let mut circles = BTreeSet::new();
    for node in &nodes {
        let circle: Vec<String> = nodes
            .iter()
            .filter(|other| other == &node || (reaches(node, other) && reaches(other, node)))
            .map(|m| m.join("::"))
            .collect();
        if circle.len() > 1 {
            circles.insert(circle);
        }
    }
    circles
}

#[test]
fn sibling_modules_form_no_circle() {
    let circles = sibling_circles();
    let known: BTreeSet<Vec<String>> = KNOWN_CIRCLES
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    let new: Vec<_> = circles.difference(&known).collect();
    assert!(new.is_empty(), "modules that import each other: {new:?}");
    let gone: Vec<_> = known.difference(&circles).collect();
    assert!(
        gone.is_empty(),
        "remove from KNOWN_CIRCLES, they are gone: {gone:?}"
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    let code = code_lines(
        "use crate::report::json; // crate::cli\n//! crate::scan\nlet x = crate::model::arn::key_id(f);",
    );
    assert_eq!(
        paths_after(&code, "crate::"),
        vec![
            vec!["report".to_string(), "json".to_string()],
            vec!["model".to_string(), "arn".to_string(), "key_id".to_string()],
        ]
    );
}
