//! Servers that go down and come back, per backend (MongoDB, S3, DynamoDB), through a fault
//! proxy in front of the real test server:
//!
//! - down (every connection reset): `report generate` exits 1 within 15 s, names the target
//!   that failed and reports the other export as done;
//! - back: the same command completes and the date is stored exactly once;
//! - a brief outage while the command runs (the first connections reset): the retries ride
//!   it out, exit 0, one copy.

mod common;

use std::time::{Duration, Instant};

use cityflow_core::conformance::{service_endpoint, unique_name};
use common::proxy::{FaultProxy, Mode};
use common::{cityflow, emulator_aws_config, examples, stdout_of};

/// A backend under test: the environment that points the CLI at it through the proxy, the
/// export that goes there, and how to count what it holds for the day.
struct Backend {
    name: &'static str,
    proxy: FaultProxy,
    vars: Vec<(String, String)>,
    /// `CSV` or `JSON`: the export that goes to this backend (the other goes to files).
    export: &'static str,
    /// What the CLI prints after "✗ Échec de l'export …" for this backend.
    failed_line: &'static str,
    copies: Box<dyn Fn() -> usize>,
}

const DATE: &str = "2026-03-10";

fn mongodb() -> Option<Backend> {
    let url = service_endpoint("MONGODB_TEST_URL")?;
    let upstream = host_port(&url);
    let proxy = FaultProxy::start(&upstream);
    let db = unique_name("cityflow-outage");
    let proxied = format!(
        "mongodb://127.0.0.1:{}/?directConnection=true",
        proxy.port()
    );
    let vars = vec![
        ("DATABASE_TYPE".into(), "mongodb".into()),
        ("MONGODB_URL".into(), proxied),
        ("MONGODB_DATABASE".into(), db.clone()),
    ];
    let copies = Box::new(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let client = mongodb::Client::with_uri_str(&url).await.unwrap();
            client
                .database(&db)
                .collection::<mongodb::bson::Document>("reports")
                .count_documents(mongodb::bson::doc! { "date": DATE })
                .await
                .unwrap() as usize
        })
    });
    Some(Backend {
        name: "MongoDB",
        proxy,
        vars,
        export: "JSON",
        failed_line: "✗ Échec de l'export JSON vers MONGODB",
        copies,
    })
}

fn aws_vars(
    proxy_var: &str,
    proxy: &FaultProxy,
    bucket: &str,
    table: &str,
) -> Vec<(String, String)> {
    vec![
        (proxy_var.into(), proxy.http_url()),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("S3_REPORTS_BUCKET".into(), bucket.into()),
        ("DYNAMODB_REPORTS_TABLE".into(), table.into()),
    ]
}

fn s3() -> Option<Backend> {
    let endpoint = service_endpoint("S3_TEST_ENDPOINT_URL")?;
    let proxy = FaultProxy::start(&host_port(&endpoint));
    let bucket = unique_name("cityflow-outage");
    let mut vars = aws_vars("AWS_ENDPOINT_URL_S3", &proxy, &bucket, "unused-table");
    vars.push(("USE_S3".into(), "true".into()));
    let copies = Box::new(move || {
        let config = emulator_aws_config(&endpoint, "http://127.0.0.1:1", &bucket, "unused");
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            use cityflow_core::BlobSink;
            let keys = cityflow_storage_aws::S3BlobSink::new(config)
                .list("")
                .await
                .unwrap();
            keys.iter().filter(|k| k.as_str().contains(DATE)).count()
        })
    });
    Some(Backend {
        name: "S3",
        proxy,
        vars,
        export: "CSV",
        failed_line: "✗ Échec de l'export CSV",
        copies,
    })
}

fn dynamodb() -> Option<Backend> {
    let endpoint = service_endpoint("DYNAMODB_TEST_ENDPOINT_URL")?;
    let proxy = FaultProxy::start(&host_port(&endpoint));
    let table = unique_name("cityflow-outage");
    let mut vars = aws_vars("AWS_ENDPOINT_URL_DYNAMODB", &proxy, "unused-bucket", &table);
    vars.push(("DATABASE_TYPE".into(), "dynamodb".into()));
    let copies = Box::new(move || {
        let config = emulator_aws_config("http://127.0.0.1:1", &endpoint, "unused", &table);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            use cityflow_core::ReportStore;
            let store = cityflow_storage_aws::DynamoReportStore::new(config);
            store
                .list(cityflow_core::DateRange::ALL)
                .await
                .unwrap()
                .iter()
                .filter(|d| d.to_string() == DATE)
                .count()
        })
    });
    Some(Backend {
        name: "DynamoDB",
        proxy,
        vars,
        export: "JSON",
        failed_line: "✗ Échec de l'export JSON vers DYNAMODB",
        copies,
    })
}

/// `host:port` of `scheme://host:port/…`.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest[..rest.find(['/', '?']).unwrap_or(rest.len())].to_string()
}

impl Backend {
    /// `cityflow` in `dir`, pointed at this backend through its proxy.
    fn cityflow(&self, dir: &std::path::Path) -> assert_cmd::Command {
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        cityflow(dir, &vars)
    }
}

fn generate(dir: &std::path::Path, b: &Backend) -> assert_cmd::assert::Assert {
    b.cityflow(dir)
        .args(["report", "generate", "--date", DATE, "--metrics-dir"])
        .arg(examples())
        .assert()
}

fn setup(dir: &std::path::Path, b: &Backend) {
    b.cityflow(dir).arg("setup").assert().success();
}

/// Down → exit 1 within 15 s naming the target; back → the re-run completes; one copy.
fn down_then_back(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &b);
    generate(dir.path(), &b).success();
    assert_eq!((b.copies)(), 1, "{}: first run", b.name);

    b.proxy.set_mode(Mode::Refuse);
    let started = Instant::now();
    let out = stdout_of(&generate(dir.path(), &b).code(1));
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "{}: failing took {took:?}",
        b.name
    );
    assert!(out.contains(b.failed_line), "{}: {out}", b.name);
    assert!(
        out.contains(&format!("127.0.0.1:{}", b.proxy.port())),
        "{}: the failure names the endpoint: {out}",
        b.name
    );
    let other_ok = if b.export == "CSV" {
        "✓ Rapport JSON exporté vers FILE"
    } else {
        "✓ Rapport CSV:"
    };
    assert!(
        out.contains(other_ok),
        "{}: the other export is reported done: {out}",
        b.name
    );
    assert!(b.proxy.refused() > 0, "{}: the outage was not seen", b.name);

    b.proxy.set_mode(Mode::Forward);
    generate(dir.path(), &b).success();
    assert_eq!((b.copies)(), 1, "{}: after the re-run", b.name);
}

/// The first connections of a run are reset, then the server answers: the run succeeds.
fn brief_outage_is_ridden_out(b: Backend, resets: usize) {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &b);
    let before = b.proxy.refused();
    b.proxy.set_mode(Mode::RefuseNext(resets));
    let out = stdout_of(&generate(dir.path(), &b).success());
    assert!(
        b.proxy.refused() - before >= resets,
        "{}: only {} connections were reset: the outage did not happen",
        b.name,
        b.proxy.refused() - before
    );
    assert!(!out.contains("Échec"), "{}: {out}", b.name);
    assert_eq!((b.copies)(), 1, "{}", b.name);
}

#[test]
fn mongodb_down_then_back() {
    if let Some(b) = mongodb() {
        down_then_back(b);
    }
}

#[test]
fn s3_down_then_back() {
    if let Some(b) = s3() {
        down_then_back(b);
    }
}

#[test]
fn dynamodb_down_then_back() {
    if let Some(b) = dynamodb() {
        down_then_back(b);
    }
}

#[test]
fn mongodb_brief_outage_is_ridden_out() {
    if let Some(b) = mongodb() {
        brief_outage_is_ridden_out(b, 3);
    }
}

#[test]
fn s3_brief_outage_is_ridden_out() {
    if let Some(b) = s3() {
        brief_outage_is_ridden_out(b, 2);
    }
}

#[test]
fn dynamodb_brief_outage_is_ridden_out() {
    if let Some(b) = dynamodb() {
        brief_outage_is_ridden_out(b, 2);
    }
}

/// MongoDB is down when the command starts and comes back after the first attempt has
/// failed: our retry (not the driver's) reaches it, and says so in its `warn` log.
#[test]
fn mongodb_back_after_the_first_attempt_is_reached_by_the_retry() {
    let Some(b) = mongodb() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &b);
    b.proxy.set_mode(Mode::Refuse);
    let before = b.proxy.refused();
    let mut vars: Vec<(String, String)> = b.vars.clone();
    vars.push(("LOG_LEVEL".into(), "warn".into()));
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cityflow"))
        .current_dir(dir.path())
        .env_clear()
        .envs(vars)
        .args(["report", "generate", "--date", DATE, "--metrics-dir"])
        .arg(examples())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first connection the proxy resets is the read of the previous week's report, which
    // gives up after its budget (REFERENCE_READ_BUDGET, 2 s). Then the export's first attempt
    // gives up after MONGODB_TIMEOUT_MS (3 s), about 5 s after that reset. Bring the server
    // back 6 s after it: between the end of the export's first attempt and the end of its
    // second (about 8.2 s).
    let waiting = Instant::now();
    while b.proxy.refused() == before {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "never connected"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_secs(6));
    b.proxy.set_mode(Mode::Forward);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("attempt 1 of 3") && stderr.contains("retrying in"),
        "the first attempt failed and was retried: {stderr}"
    );
    assert_eq!((b.copies)(), 1);
}
