//! Helpers shared by the CLI tests.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository's example metrics set (2026-03-10).
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/metrics")
}

/// The reviewed golden CSV of the example day.
pub const GOLDEN_CSV: &str =
    include_str!("../../../cityflow-core/tests/golden/daily_report_2026-03-10.csv");

/// `cityflow` run in `dir` with only `vars` in its environment, so that neither the
/// developer's `.env` nor their variables leak in.
pub fn cityflow(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::cargo_bin("cityflow").unwrap();
    cmd.current_dir(dir).env_clear();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

/// A loopback port where nothing listens.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
