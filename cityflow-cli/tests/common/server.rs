//! `cityflow serve` as a child process on a free loopback port, and a raw HTTP/1.1 client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{cityflow, examples};

/// Exports the example day (2026-03-10) into `dir/output/reports` with the files-only setup.
pub fn export_example_day(dir: &Path) {
    cityflow(dir, &[])
        .args([
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--metrics-dir",
        ])
        .arg(examples())
        .assert()
        .success();
}

/// A `cityflow serve` process; killed if a test fails before stopping it.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub stderr: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(dir: &Path, vars: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("cityflow"));
        cmd.current_dir(dir)
            .env_clear()
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let (lines, stderr) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let first = stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("cityflow serve says where it listens");
        let port = first
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Server {
            child,
            port,
            stderr,
        }
    }

    /// Sends `request` as raw bytes on a new connection; returns the raw answer. Panics when
    /// the server closes without answering.
    pub fn raw(&self, request: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        // A server may answer and close before reading a huge request: a failed write is
        // fine as long as an answer comes.
        let _ = stream.write_all(request);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(
            answer.starts_with(b"HTTP/1."),
            "no answer (connection dropped) to {:?}: {:?}",
            String::from_utf8_lossy(&request[..request.len().min(200)]),
            String::from_utf8_lossy(&answer)
        );
        answer
    }

    pub fn get(&self, path: &str) -> (u16, String, Vec<u8>) {
        let answer = self.raw(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        split(&answer)
    }
}

/// Status, head and body of a raw HTTP/1.1 answer (the body not de-chunked: callers ask
/// for small bodies, sent with Content-Length).
pub fn split(answer: &[u8]) -> (u16, String, Vec<u8>) {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&answer[..end]).to_string();
    let status = head[9..12].parse().unwrap();
    (status, head, answer[end + 4..].to_vec())
}
