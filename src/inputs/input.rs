//! Reading the user's input files (config, specs, policy files, state exports, suppressions,
//! accounts lists) with a size bound: a wrong path — a device such as `/dev/zero`, a multi-GB
//! log — is a clear error, not an endless read that ends in the kernel's out-of-memory killer.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Specs and Terraform state / Pulumi exports: large estates' states run to hundreds of MB.
pub const SPEC_LIMIT: u64 = 512 << 20;
/// A key policy file: AWS caps key policies at 32 KB.
pub const POLICY_LIMIT: u64 = 1 << 20;
/// Config, suppressions and accounts files.
pub const SETTINGS_LIMIT: u64 = 64 << 20;

/// The file's text, if it is a file (or a pipe) of at most `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a directory, not a file",
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_char_device() || kind.is_block_device() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a device, not a file",
            ));
        }
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is larger than {} MB, more than kms-audit reads from such a file; is it the right file?",
                limit >> 20
            ),
        )
    };
    if metadata.is_file() && metadata.len() > limit {
        return Err(too_large());
    }
    let mut text = String::new();
    file.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_oversized_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'#'; 2048]).expect("write");
        let err = read_text(&big, 1024).expect_err("too large");
        assert!(err.to_string().contains("larger than 0 MB"), "{err}");
        assert_eq!(read_text(&big, 4096).expect("fits").len(), 2048);
        let err = read_text(dir.path(), SPEC_LIMIT).expect_err("a directory");
        assert!(err.to_string().contains("directory"), "{err}");
        #[cfg(unix)]
        {
            let err = read_text(Path::new("/dev/zero"), SPEC_LIMIT).expect_err("a device");
            assert!(err.to_string().contains("device"), "{err}");
        }
    }
}
