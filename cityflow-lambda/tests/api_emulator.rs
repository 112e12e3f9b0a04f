//! The HTTP API function: the release binary `cityflow-api-lambda` attached to cargo-lambda's
//! emulator (`cargo lambda watch --only-lambda-apis`, which also emulates function URLs),
//! reading DynamoDB Local. Each request is sent to the function through the emulator and to
//! the same router in process; status, validators, types and bodies must be the same.
//!
//! Needs `CARGO_LAMBDA`, the release binary (`CITYFLOW_API_LAMBDA_BIN`, default
//! `target/release/cityflow-api-lambda`) and `DYNAMODB_TEST_ENDPOINT_URL`; with `CI=true` a
//! missing one fails the test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

mod common;

use axum::body::Body;
use cityflow_core::conformance::{service_endpoint, unique_name};
use cityflow_core::{ReportStore, StoredReport, Timestamp};
use cityflow_storage_aws::{AwsConfig, DynamoReportStore};
use common::emulator::{free_port, function_env, required, root, start_emulator, Running};
use common::emulator_settings;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The headers whose values must agree.
const COMPARED: &[&str] = &[
    "content-type",
    "etag",
    "last-modified",
    "cache-control",
    "content-disposition",
    "content-location",
    "allow",
    "www-authenticate",
];

/// Method, path and headers of one request.
type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, Option<String>)>,
    body: Vec<u8>,
}

fn compared(get: impl Fn(&str) -> Option<String>) -> Vec<(String, Option<String>)> {
    COMPARED.iter().map(|h| (h.to_string(), get(h))).collect()
}

/// One request through the emulator's function URL, over a plain HTTP/1.1 connection.
fn through_lambda(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} /lambda-url/_{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut body = raw[end + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let fields: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if fields
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers: compared(|name| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }),
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

async fn in_process(
    router: &axum::Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = axum::http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = compared(|name| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    });
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn report(date: &str) -> StoredReport {
    let date = date.parse().unwrap();
    let generated = cityflow_core::generate_from_metrics_dir(
        &root().join("examples/metrics"),
        "2026-03-10".parse().unwrap(),
        Timestamp::parse("2026-03-11T05:00:00+00:00").unwrap(),
    )
    .unwrap();
    let mut report = generated.report;
    report.date = date;
    StoredReport::new(
        report,
        Timestamp::parse(&format!("{date}T23:00:00+00:00")).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_function_answers_as_the_router_does() {
    let Some(cargo_lambda) = required("CARGO_LAMBDA", None) else {
        return;
    };
    let Some(binary) = required(
        "CITYFLOW_API_LAMBDA_BIN",
        Some(root().join("target/release/cityflow-api-lambda")),
    ) else {
        return;
    };
    let Some(dynamodb) = service_endpoint("DYNAMODB_TEST_ENDPOINT_URL") else {
        return;
    };
    let table = unique_name("cityflow-api-e2e");
    // No S3 is used by the API: an address nothing listens on proves it.
    let settings = emulator_settings("http://127.0.0.1:9", &dynamodb, "unused-bucket", &table);
    let store: Arc<dyn ReportStore> = Arc::new(DynamoReportStore::new(AwsConfig::new(settings)));
    store.setup().await.unwrap();
    for date in ["2026-03-08", "2026-03-09", "2026-03-10"] {
        store.put(&report(date)).await.unwrap();
    }
    let router = cityflow_api::router(store.clone(), cityflow_api::ApiConfig::default());

    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _emulator = start_emulator(&cargo_lambda, port, work.path());
    let mut cmd = Command::new(&binary);
    function_env(
        &mut cmd,
        port,
        &[
            ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("S3_REPORTS_BUCKET", "unused-bucket"),
            ("DYNAMODB_REPORTS_TABLE", &table),
        ],
    );
    let _function = Running(
        cmd.current_dir(work.path())
            .stdout(std::fs::File::create(work.path().join("function.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let first = through_lambda(port, "GET", "/reports/2026-03-10", &[]);
    let etag = first.headers[1].1.clone().expect("an ETag through Lambda");
    let cases: Vec<Case> = vec![
        ("GET", "/health", vec![]),
        ("GET", "/ready", vec![]),
        ("GET", "/reports", vec![]),
        ("GET", "/reports?from=2026-03-09&to=2026-03-10", vec![]),
        ("GET", "/reports?from=2026-03-10&to=2026-03-01", vec![]),
        ("GET", "/reports/2026-03-10", vec![]),
        ("GET", "/reports/2026-03-10", vec![("accept", "text/csv")]),
        ("GET", "/reports/2026-03-10", vec![("accept", "image/png")]),
        (
            "GET",
            "/reports/2026-03-10",
            vec![("if-none-match", etag.as_str())],
        ),
        ("GET", "/reports/2026-03-10.csv", vec![]),
        ("GET", "/reports/2026-03-10.html", vec![]),
        ("GET", "/reports/2026-03-11", vec![]),
        ("GET", "/reports/2026-13-01", vec![]),
        ("GET", "/reports/latest", vec![]),
        ("GET", "/stats", vec![]),
        ("GET", "/api/stats?from=2026-03-08", vec![]),
        ("GET", "/report/2026-03-09", vec![]),
        ("GET", "/openapi.json", vec![]),
        ("GET", "/", vec![]),
        ("GET", "/nowhere", vec![]),
        ("DELETE", "/reports/2026-03-10", vec![]),
    ];
    for (method, path, headers) in &cases {
        let mut lambda = through_lambda(port, method, path, headers);
        let mut direct = in_process(&router, method, path, headers).await;
        if *path == "/openapi.json" {
            // The same document; the order of its keys depends on whether serde_json's
            // `preserve_order` is on in the build (the test build and the release binary
            // unify features differently), and the tag follows the bytes.
            let as_json =
                |a: &Answer| serde_json::from_slice::<serde_json::Value>(&a.body).unwrap();
            assert_eq!(
                as_json(&lambda),
                as_json(&direct),
                "the OpenAPI documents differ"
            );
            for answer in [&mut lambda, &mut direct] {
                answer.body.clear();
                answer.headers.retain(|(name, _)| name != "etag");
            }
        }
        assert_eq!(
            (lambda.status, &lambda.headers),
            (direct.status, &direct.headers),
            "{method} {path} {headers:?}: {}",
            std::fs::read_to_string(work.path().join("function.log")).unwrap_or_default()
        );
        assert!(
            lambda.body == direct.body,
            "{method} {path}: the bodies differ"
        );
    }
    assert_eq!(first.status, 200);
}
