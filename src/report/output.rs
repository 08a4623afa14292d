//! Where reports go: `--format` to stdout, `-o FORMAT=PATH` to files written atomically.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::Format;

/// One `-o FORMAT=PATH` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTarget {
    pub format: Format,
    pub path: PathBuf,
}

impl FromStr for OutputTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (format, path) = s
            .split_once('=')
            .ok_or_else(|| format!("'{s}' is not FORMAT=PATH (for example json=out/scan.json)"))?;
        if path.is_empty() {
            return Err(format!("'{s}' names no file after '='"));
        }
        Ok(OutputTarget {
            format: format.parse()?,
            path: PathBuf::from(path),
        })
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory and a rename, so a
/// reader (or a killed job) never sees half a report.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |out| out.write_all(contents))
}

/// The write buffer of a report file: large writes, few system calls, a small fixed cost.
const WRITE_BUFFER: usize = 256 * 1024;

/// Like [`write_atomic`], with the contents streamed by `write` into a buffered temporary file,
/// so a large report never has to be held in memory whole. When `write` fails the temporary file
/// is removed and `path` is left as it was.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp_path = dir.join(temp_name);
    remove_stale_temp_files(dir, file_name);
    let result = (|| {
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, std::fs::File::create(&temp_path)?);
        write(&mut out)?;
        let file = out.into_inner().map_err(|err| err.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temp_path, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp_path);
    }
    result
}

/// Removes the temporary files that killed runs left beside `file_name` (their process is gone),
/// so an interrupted job leaves no debris once the next run has written the report.
fn remove_stale_temp_files(dir: &Path, file_name: &std::ffi::OsStr) {
    let prefix = format!(".{}.", file_name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if !alive {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_format_and_path() {
        let target: OutputTarget = "json=out/scan.json".parse().expect("valid");
        assert_eq!(target.format, Format::Json);
        assert_eq!(target.path, PathBuf::from("out/scan.json"));
        assert!("scan.json".parse::<OutputTarget>().is_err());
        assert!("json=".parse::<OutputTarget>().is_err());
        assert!(
            "pdf=x.pdf"
                .parse::<OutputTarget>()
                .unwrap_err()
                .contains("pdf")
        );
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("scan.json");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("scan.json")]);
    }

    #[test]
    fn temp_files_of_dead_writers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        // PIDs above the kernel's pid_max (4194304) never exist.
        let dead = dir.path().join(".scan.json.4999999.tmp");
        let alive = dir
            .path()
            .join(format!(".scan.json.{}.tmp", std::process::id()));
        let other = dir.path().join(".other.json.4999999.tmp");
        for path in [&dead, &other] {
            std::fs::write(path, b"half").expect("write");
        }
        write_atomic(&dir.path().join("scan.json"), b"whole").expect("write");
        assert!(!dead.exists(), "a dead writer's temp file is removed");
        assert!(!alive.exists(), "our own temp file was renamed into place");
        assert!(other.exists(), "temp files of other reports are left alone");
    }

    #[test]
    fn a_failed_stream_keeps_the_old_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("scan.json");
        write_atomic(&path, b"old").expect("write");
        let err = write_atomic_with(&path, |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("renderer failed"))
        })
        .expect_err("the failure is returned");
        assert_eq!(err.to_string(), "renderer failed");
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("scan.json")]);
    }

    #[test]
    fn failed_write_names_no_partial_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing-dir").join("scan.json");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(!path.exists());
    }
}
