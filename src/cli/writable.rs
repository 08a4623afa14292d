//! `-o FORMAT=PATH` checked before any work: a report that cannot be written must stop the run
//! at once (exit 2), not after an hour-long scan whose result is then lost.

use std::path::Path;

use crate::report::OutputTarget;

/// Checks that every `-o` path can be written: its directory exists and accepts a new file (a
/// probe file is created and removed at once), and the path is not a directory.
pub fn check_outputs(outputs: &[OutputTarget]) -> anyhow::Result<()> {
    for output in outputs {
        check_one(&output.path).map_err(|why| {
            anyhow::anyhow!(
                "cannot write the {} report to {}: {why}",
                output.format,
                output.path.display()
            )
        })?;
    }
    Ok(())
}

/// Checks a target that names a directory (`-o sarif=DIR/`): it is a directory or does not exist
/// yet, and its nearest existing ancestor accepts new entries (the writer creates the rest).
pub fn check_directory(output: &OutputTarget) -> anyhow::Result<()> {
    let fail = |why: String| {
        anyhow::anyhow!(
            "cannot write the {} reports to the directory {}: {why}",
            output.format,
            output.path.display()
        )
    };
    let mut existing = output.path.as_path();
    loop {
        match std::fs::metadata(existing) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => return Err(fail(format!("{} is not a directory", existing.display()))),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                existing = match existing.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent,
                    _ => Path::new("."),
                };
            }
            Err(err) => return Err(fail(format!("cannot use {}: {err}", existing.display()))),
        }
    }
    check_one(&existing.join("index.json")).map_err(fail)
}

fn check_one(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("it is a directory; -o takes FORMAT=FILE".to_string());
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(format!("{} is not a directory", dir.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("the directory {} does not exist", dir.display()));
        }
        Err(err) => return Err(format!("cannot use the directory {}: {err}", dir.display())),
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| "the path names no file".to_string())?;
    // A hidden name of our own, like the temporary file of the atomic write that follows.
    let mut probe_name = std::ffi::OsString::from(".");
    probe_name.push(file_name);
    probe_name.push(format!(".{}.probe", std::process::id()));
    let probe = dir.join(probe_name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|err| format!("the directory {} is not writable: {err}", dir.display()))?;
    std::fs::remove_file(&probe).map_err(|err| {
        format!(
            "could not remove the test file {} again: {err}",
            probe.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &Path) -> OutputTarget {
        format!("json={}", path.display()).parse().expect("target")
    }

    #[test]
    fn a_writable_directory_passes_and_keeps_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        check_outputs(&[target(&dir.path().join("scan.json"))]).expect("writable");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn missing_directories_files_and_directories_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope/scan.json");
        let err = check_outputs(&[target(&missing)]).expect_err("missing");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot write the json report to {}: the directory {} does not exist",
                missing.display(),
                dir.path().join("nope").display()
            )
        );
        let err = check_outputs(&[target(dir.path())]).expect_err("a directory");
        assert!(err.to_string().contains("it is a directory"), "{err}");
        let file = dir.path().join("file");
        std::fs::write(&file, "").expect("file");
        let err = check_outputs(&[target(&file.join("scan.json"))]).expect_err("under a file");
        assert!(err.to_string().contains("is not a directory"), "{err}");
    }
}
