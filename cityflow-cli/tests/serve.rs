//! `cityflow serve` as a process on a real socket: what it serves equals what the exporter
//! wrote, a hostile-request corpus never gets a 500, a dropped connection or a byte from
//! outside the store, and SIGTERM stops it cleanly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::server::{export_example_day, split, Server};
use common::*;

#[test]
fn serves_what_was_exported_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    export_example_day(dir.path());
    let server = Server::start(dir.path(), &[]);

    let (status, head, csv) = server.get("/reports/2026-03-10.csv");
    assert_eq!(status, 200, "{head}");
    let exported = std::fs::read(
        dir.path()
            .join("output/reports/daily_report_2026-03-10.csv"),
    )
    .unwrap();
    assert_eq!(
        csv, exported,
        "the CSV served is the CSV exported, byte for byte"
    );

    let (status, _, json) = server.get("/reports/2026-03-10");
    assert_eq!(status, 200);
    let envelope: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let stored: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join("output/reports/daily_report_2026-03-10.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for key in ["report_id", "date", "timestamp", "report"] {
        assert_eq!(envelope[key], stored[key], "{key}");
    }

    // SIGTERM: the server finishes and exits 0.
    let mut server = server;
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(server.child.id() as i32, libc::SIGTERM);
    }
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let said: Vec<String> = server.stderr.try_iter().collect();
    assert!(said.iter().any(|l| l.contains("stopped")), "{said:?}");
}

#[test]
fn warns_when_open_beyond_loopback_and_refuses_a_bad_address() {
    let dir = tempfile::tempdir().unwrap();
    let bad = cityflow(dir.path(), &[])
        .args(["serve", "--bind", "localhost"])
        .assert()
        .code(2);
    assert!(stderr_of(&bad).contains("--bind"), "{}", stderr_of(&bad));
    let bad = cityflow(dir.path(), &[("CITYFLOW_API_TIMEOUT_MS", "soon")])
        .arg("serve")
        .assert()
        .code(2);
    assert!(stderr_of(&bad).contains("CITYFLOW_API_TIMEOUT_MS"));

    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("cityflow"));
    let mut child = cmd
        .current_dir(dir.path())
        .env_clear()
        .args(["serve", "--bind", "0.0.0.0:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let _address = lines.next().unwrap().unwrap();
    let warning = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        warning.contains("CITYFLOW_API_TOKEN is not set"),
        "{warning}"
    );
}

/// What a hostile request may get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A client error (400–499).
    ClientError,
    /// Anything but a server error.
    NoServerError,
}

fn corpus() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::*;
    let get = |target: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .into_bytes()
    };
    let with = |target: &str, header: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n{header}\r\nConnection: close\r\n\r\n")
            .into_bytes()
    };
    let mut raw_invalid_utf8 =
        b"GET /reports/\xff\xfe\xc0\xaf HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            .to_vec();
    let raw_nul =
        b"GET /reports/2026-03-10\x00.csv HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            .to_vec();
    let header_invalid_utf8 = b"GET /reports/2026-03-10 HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: \"\xff\xfe\"\r\nAccept: \xc3\x28\r\nConnection: close\r\n\r\n".to_vec();
    let many_headers = {
        let mut r = b"GET /reports HTTP/1.1\r\nHost: localhost\r\n".to_vec();
        for i in 0..500 {
            r.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        r.extend_from_slice(b"Connection: close\r\n\r\n");
        r
    };
    let many_params = format!(
        "/reports?{}",
        (0..5_000)
            .map(|i| format!("p{i}=x"))
            .collect::<Vec<_>>()
            .join("&")
    );
    raw_invalid_utf8.shrink_to_fit();
    vec![
        ("dot-dot in the path", get("/reports/../../etc/passwd"), ClientError),
        ("dot-dot to a file beside the store", get("/reports/../../secret.txt"), ClientError),
        ("encoded slashes", get("/reports/..%2f..%2fsecret.txt"), ClientError),
        ("encoded dots and slashes", get("/reports/%2e%2e%2f%2e%2e%2fsecret.txt"), ClientError),
        ("double encoding", get("/reports/..%252f..%252fsecret.txt"), ClientError),
        ("overlong UTF-8 dot and slash", get("/reports/%c0%ae%c0%ae%c0%afsecret.txt"), ClientError),
        ("encoded backslashes", get("/reports/..%5c..%5csecret.txt"), ClientError),
        ("raw backslashes", get("/reports/..\\..\\secret.txt"), ClientError),
        ("dot-dot as the date", get("/reports/%2e%2e"), ClientError),
        ("dot as the date", get("/reports/."), ClientError),
        ("dot-dot above the root", get("/../../../../etc/passwd"), ClientError),
        ("double slash", get("//etc/passwd"), ClientError),
        ("absolute-form target", get("http://evil.example/../../secret.txt"), ClientError),
        ("a report file name as the date", get("/reports/daily_report_2026-03-10.json"), ClientError),
        ("encoded NUL", get("/reports/2026-03-10%00.csv"), ClientError),
        ("raw NUL", raw_nul, ClientError),
        ("NUL then another suffix", get("/reports/2026-03-10.csv%00.html"), ClientError),
        ("encoded invalid UTF-8", get("/reports/%ff%fe"), ClientError),
        ("raw invalid UTF-8", raw_invalid_utf8, ClientError),
        ("invalid UTF-8 in headers", header_invalid_utf8, NoServerError),
        ("a 100 kB path", get(&format!("/reports/{}", "a".repeat(100_000))), ClientError),
        ("a 200 kB header", with("/reports", &format!("X-Long: {}", "b".repeat(200_000))), ClientError),
        ("500 headers", many_headers, ClientError),
        ("5,000 query parameters", get(&many_params), NoServerError),
        ("a huge bearer token", with("/reports", &format!("Authorization: Bearer {}", "c".repeat(60_000))), NoServerError),
        ("month 13", get("/reports/2026-13-01"), ClientError),
        ("29 February of a common year", get("/reports/2026-02-29"), ClientError),
        ("all nines", get("/reports/9999-99-99"), ClientError),
        ("all zeros", get("/reports/0000-00-00"), ClientError),
        // Paged: any range is one page of at most `limit`.
        ("year 0 to 9999, listed", get("/reports?from=0000-01-01&to=9999-12-31"), NoServerError),
        ("year 0 to 9999, stats", get("/stats?from=0000-01-01&to=9999-12-31"), ClientError),
        ("a huge limit", get("/reports?limit=18446744073709551616"), ClientError),
        ("a forged cursor", get("/reports?cursor=76313a393939392d39392d3939"), ClientError),
        ("six-digit years", get("/stats?from=-99999-01-01&to=+99999-12-31"), ClientError),
        ("the last representable date", get("/stats?from=9999-12-31"), NoServerError),
        ("an inverted range", get("/reports?from=2026-03-10&to=2026-03-01"), ClientError),
        ("encoded NUL as a date", get("/reports?from=%00"), ClientError),
        ("a repeated parameter", get("/reports?from=2026-03-01&from=2026-03-02"), ClientError),
        ("array syntax", get("/reports?from[]=2026-03-01"), NoServerError),
        ("markup in the path", get("/reports/%3Cscript%3Ealert(1)%3C%2Fscript%3E"), ClientError),
        ("raw markup in the path", get("/reports/<script>alert(1)</script>"), ClientError),
        ("markup in the query", get("/stats?from=%22%3E%3Csvg%20onload%3Dalert(1)%3E"), ClientError),
        ("an unknown method", b"BREW /reports HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_vec(), ClientError),
        ("a body on GET", b"GET /reports/2026-03-10 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_vec(), NoServerError),
        ("a lying Content-Length", b"GET /reports HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\nConnection: close\r\n\r\n".to_vec(), ClientError),
        ("HTTP/1.0 without Host", b"GET /reports/2026-03-10 HTTP/1.0\r\n\r\n".to_vec(), NoServerError),
        ("garbage request line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n".to_vec(), ClientError),
        ("absurd weights in Accept", with("/reports/2026-03-10", "Accept: text/csv;q=NaN, */*;q=-1"), NoServerError),
        ("absurd Accept-Encoding", with("/reports/2026-03-10", "Accept-Encoding: gzip;q=abc, br;q=99"), NoServerError),
        ("absurd If-Modified-Since", with("/reports/2026-03-10", "If-Modified-Since: Mon, 99 Foo 99999 99:99:99 GMT"), NoServerError),
        ("a Range header", with("/reports/2026-03-10.csv", "Range: bytes=999999999-"), NoServerError),
    ]
}

#[test]
fn a_hostile_corpus_never_breaks_the_server() {
    let dir = tempfile::tempdir().unwrap();
    export_example_day(dir.path());
    // Something beside the store that must never be served.
    std::fs::write(dir.path().join("output/secret.txt"), "TOP-SECRET-MARKER").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET-MARKER").unwrap();
    let server = Server::start(dir.path(), &[]);
    let corpus = corpus();
    assert!(corpus.len() >= 30, "{} cases", corpus.len());
    for (name, request, expect) in corpus {
        let answer = server.raw(&request);
        let (status, head, body) = split(&answer);
        let text = String::from_utf8_lossy(&answer);
        assert!(status < 500, "{name}: {status}\n{head}");
        if let Expect::ClientError = expect {
            assert!(
                (400..500).contains(&status),
                "{name}: expected a client error, got {head}"
            );
        }
        assert!(
            !text.contains("TOP-SECRET-MARKER") && !text.contains("root:x:0:0"),
            "{name}: {text}"
        );
        assert!(
            !text.contains("<script") && !text.contains("<svg onload"),
            "{name} reflects markup: {text}"
        );
        assert!(
            !text.contains(&dir.path().display().to_string()),
            "{name} shows a path: {text}"
        );
        if (400..500).contains(&status)
            && head
                .to_ascii_lowercase()
                .contains("content-type: application/problem+json")
        {
            let problem: serde_json::Value = serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("{name}: problem body unreadable ({e}): {text}"));
            assert_eq!(problem["status"], status, "{name}");
        }
        // The server keeps serving after every case.
        let (status, _, _) = server.get("/health");
        assert_eq!(status, 200, "after {name}");
    }
    let (status, _, _) = server.get("/reports/2026-03-10.csv");
    assert_eq!(status, 200);
}
