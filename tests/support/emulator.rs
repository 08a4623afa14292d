//! Starts the local AWS emulator (moto in server mode behind kms-audit's launcher, which patches
//! the places where moto differs from AWS) on a free loopback port, and stops it on drop.
//!
//! There is no skip: without the emulator an end-to-end test fails with instructions.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Emulator {
    child: Child,
    pub endpoint: String,
    pub port: u16,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("KMS_AUDIT_EMULATOR_PYTHON") {
        return PathBuf::from(path);
    }
    repo_root().join(".venv").join("bin").join("python")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

impl Emulator {
    /// Starts a fresh emulator; every test gets its own, so tests never see each other's keys.
    pub fn start() -> Emulator {
        Emulator::start_with_page_size(None)
    }

    /// Like [`Emulator::start`], with List* pages capped at `max_page_size` items (AWS may
    /// return fewer items than asked for), so small estates exercise pagination.
    pub fn start_with_page_size(max_page_size: Option<usize>) -> Emulator {
        let python = python();
        assert!(
            python.exists(),
            "the local AWS emulator is not installed ({} is missing): run scripts/setup-emulator.sh \
             (scripts/test.sh does it for you)",
            python.display()
        );
        let launcher = repo_root().join("scripts").join("emulator_launcher.py");
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&python)
                .arg(&launcher)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(max_page_size.map(|n| format!("--max-page-size={n}")))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("could not start the emulator launcher");
            let stdout = child.stdout.take().expect("piped stdout");
            let (ready_tx, ready_rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("listening on") {
                        let _ = ready_tx.send(());
                    }
                }
            });
            if ready_rx.recv_timeout(Duration::from_secs(60)).is_ok() {
                return Emulator {
                    child,
                    endpoint: format!("http://127.0.0.1:{port}"),
                    port,
                };
            }
            // The port may have been taken between probe and bind: try another one.
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the local AWS emulator did not start (tried 3 ports)");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
