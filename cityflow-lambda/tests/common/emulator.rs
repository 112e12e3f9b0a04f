//! The Lambda emulator's processes: `cargo lambda watch --only-lambda-apis` and a function
//! binary attached to it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn required(var: &str, default: Option<PathBuf>) -> Option<PathBuf> {
    let path = std::env::var_os(var).map(PathBuf::from).or(default);
    match path {
        Some(p) if p.is_file() => Some(p),
        other => {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !in_ci,
                "{var} ({other:?}) is missing and CI=true: scripts/test installs cargo-lambda \
                 and builds the release binary"
            );
            eprintln!("skipped: {var} ({other:?}) is missing; run scripts/test");
            None
        }
    }
}

/// Kills the process when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, logs: &Path) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the emulator did not listen on {port} within 30 s: {} {}",
            std::fs::read_to_string(logs.join("emulator.log")).unwrap_or_default(),
            std::fs::read_to_string(logs.join("emulator.err")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn function_env(cmd: &mut Command, port: u16, aws: &[(&str, &str)]) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "us-east-1");
    for (k, v) in aws {
        cmd.env(k, v);
    }
}

/// `cargo lambda watch --only-lambda-apis` on `port`, run at the workspace root (it reads the
/// workspace's metadata), logging into `work`; waited for until it listens.
pub fn start_emulator(cargo_lambda: &Path, port: u16, work: &Path) -> Running {
    let emulator = Running(
        Command::new(cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .current_dir(root())
            .stdout(std::fs::File::create(work.join("emulator.log")).unwrap())
            .stderr(std::fs::File::create(work.join("emulator.err")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port, work);
    emulator
}
