//! Inputs from S3, against the test servers (LocalStack for S3, DynamoDB Local): AWS mode
//! as a Rust Lambda function sees it, metrics read from `s3://$S3_REPORTS_BUCKET/metrics` by
//! default, and raw open-data exports streamed from S3, resumed when the download is cut.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cityflow_core::conformance::{service_endpoint, unique_name};
use cityflow_core::{BlobKey, BlobSink, ReportStore, StoredReport};
use cityflow_storage_aws::{AwsConfig, DynamoReportStore, S3BlobSink};
use common::proxy::{FaultProxy, Mode};
use common::{cityflow, closed_port, emulator_aws_config, files_under};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/cityflow-original")
}

struct Aws {
    s3: String,
    dynamodb: String,
    bucket: String,
    table: String,
}

impl Aws {
    fn new() -> Option<Aws> {
        Some(Aws {
            s3: service_endpoint("S3_TEST_ENDPOINT_URL")?,
            dynamodb: service_endpoint("DYNAMODB_TEST_ENDPOINT_URL")?,
            bucket: unique_name("cityflow-in"),
            table: unique_name("cityflow-in-reports"),
        })
    }

    fn config(&self) -> AwsConfig {
        emulator_aws_config(&self.s3, &self.dynamodb, &self.bucket, &self.table)
    }

    /// Only what a Rust function on `provided.al2023` gets, plus the emulators' endpoints.
    fn lambda_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_FUNCTION_NAME", "cityflow-report".into()),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001".into()),
            ("LAMBDA_TASK_ROOT", "/var/task".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL_S3", self.s3.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB", self.dynamodb.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test-secret".into()),
            ("S3_REPORTS_BUCKET", self.bucket.clone()),
            ("DYNAMODB_REPORTS_TABLE", self.table.clone()),
        ]
    }

    /// Writes `bytes` at `s3://bucket/key` (creating the bucket).
    fn upload(&self, key: &str, bytes: Vec<u8>) {
        let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
        let mut config = self.config();
        config.s3_prefix = prefix.to_string();
        let sink = S3BlobSink::new(config);
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            sink.setup().await.unwrap();
            sink.put(
                &BlobKey::new(name).unwrap(),
                Bytes::from(bytes),
                "application/octet-stream",
            )
            .await
            .unwrap();
        });
    }
}

fn run(dir: &Path, vars: &[(&str, String)], args: &[&str]) -> Output {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cityflow(dir, &vars).args(args).output().unwrap()
}

/// Runs `cityflow` as `nobody` in `dir` made read-only (when the tests run as root, whom
/// modes do not stop): any attempt to create a file there fails.
fn run_in_read_only_dir(dir: &Path, vars: &[(&str, String)], args: &[&str]) -> Output {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("cityflow");
    let mut cmd = if nix_is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    cmd.current_dir(dir).env_clear().args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    out
}

fn nix_is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn aws_mode_on_a_rust_lambda_reads_metrics_from_s3_and_writes_nothing_locally() {
    let Some(aws) = Aws::new() else { return };
    // The real fixture day, uploaded as the old tool's pipeline left it (its comptages file
    // is absent from the fixtures: a warning), traffic and referentiel included.
    for kind in ["bikes", "weather", "chantiers", "traffic", "referentiel"] {
        let name = format!("{kind}_metrics_2025-11-04.json");
        aws.upload(
            &format!("metrics/{name}"),
            std::fs::read(fixtures().join(&name)).unwrap(),
        );
    }
    let vars = aws.lambda_vars();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("task");
    std::fs::create_dir(&work).unwrap();

    let env = run(&work, &vars, &["env"]);
    let out = text(&env.stdout);
    assert!(
        out.contains("☁️  Mode AWS PRODUCTION (AWS_LAMBDA_FUNCTION_NAME=cityflow-report)"),
        "{out}"
    );
    assert!(
        out.contains(&format!("inputs : s3://{}/metrics", aws.bucket)),
        "{out}"
    );
    let setup = run(&work, &vars, &["setup"]);
    assert!(setup.status.success(), "{}", text(&setup.stderr));

    // METRICS_DIR unset; the working directory read-only, as /var/task is.
    let out = run_in_read_only_dir(
        &work,
        &vars,
        &["report", "generate", "--date", "2025-11-04"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "3 fichier(s) métriques lu(s) depuis s3://{}/metrics",
            aws.bucket
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "s3://{}/metrics/comptages_metrics_2025-11-04.json not found",
            aws.bucket
        )),
        "{stderr}"
    );
    assert!(files_under(&work).is_empty(), "{:?}", files_under(&work));

    // What was stored equals the report built from the same files on disk.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (stored, csv) = rt.block_on(async {
        let store = DynamoReportStore::new(aws.config());
        let sink = S3BlobSink::new(aws.config());
        let date = "2025-11-04".parse().unwrap();
        (
            store.get(date).await.unwrap(),
            sink.get(&BlobKey::report_csv(date)).await.unwrap(),
        )
    });
    let mut local = cityflow_core::generate_from_metrics_dir(
        &fixtures(),
        "2025-11-04".parse().unwrap(),
        stored.report.generated_at,
    )
    .unwrap();
    // Nothing stored before: the comparison says there is no earlier report.
    local.report.evolution_vs_semaine_precedente = cityflow_core::Evolution::compute(
        &local.report,
        &std::array::from_fn(|_| cityflow_core::evolution::PastWeek::Missing),
    );
    assert_eq!(stored.report, local.report);
    assert_eq!(text(&csv), cityflow_core::render_csv(&local.report));
}

#[test]
fn s3_metrics_problems_are_named() {
    let Some(aws) = Aws::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let vars = aws.lambda_vars();
    aws.upload(
        "bad/bikes_metrics_2025-11-04.json",
        b"{\"metrics\": [ {\"total_jour\": 3},\n oops ]}".to_vec(),
    );
    aws.upload("bad/weather_metrics_2025-11-04.json", b"{}".to_vec());
    let generate = |metrics: &str, vars: &[(&str, String)]| {
        run(
            dir.path(),
            vars,
            &[
                "report",
                "generate",
                "--date",
                "2025-11-04",
                "--metrics-dir",
                metrics,
            ],
        )
    };

    // Malformed: exit 2, naming the object and the position.
    let out = generate(&format!("s3://{}/bad", aws.bucket), &vars);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "s3://{}/bad/bikes_metrics_2025-11-04.json: malformed metrics file at line 2 column 2",
            aws.bucket
        )),
        "{stderr}"
    );

    // No object at all under the prefix: exit 2.
    let out = generate(&format!("s3://{}/empty", aws.bucket), &vars);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no metrics file for 2025-11-04"),
        "{stderr}"
    );

    // A bucket that does not exist: exit 2, naming it.
    let missing = unique_name("cityflow-none");
    let out = generate(&format!("s3://{missing}/metrics"), &vars);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("S3 bucket {missing}")), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");

    // Unreachable: exit 1 within the SDK's bounds, naming the bucket and the endpoint.
    let port = closed_port();
    let mut down = vars.clone();
    down.retain(|(k, _)| *k != "AWS_ENDPOINT_URL_S3");
    down.push(("AWS_ENDPOINT_URL_S3", format!("http://127.0.0.1:{port}")));
    let started = Instant::now();
    let out = generate(&format!("s3://{}/bad", aws.bucket), &down);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        stderr.contains(&format!(
            "S3 bucket {} at http://127.0.0.1:{port}",
            aws.bucket
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("test-secret"), "{stderr}");
    assert!(files_under(dir.path()).is_empty());
}

/// A simulated raw export of several days, written by the CLI itself.
fn simulate(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    cityflow(dir, &[])
        .args([
            "simulate",
            "comptages",
            "--from",
            "2025-10-25",
            "--to",
            "2025-10-28",
            // 90 arcs: about 296 KB gzipped, well over the cuts of the download test (60
            // arcs made 172 KB once gzip moved to zlib-rs, which compresses better).
            "--arcs",
            "90",
            "--seed",
            "11",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    out
}

/// The stored reports and CSVs of a files-only run in `dir`, by file name, with the
/// generation and export times (which differ from run to run) set to one value and the
/// provenance (a path or an `s3://` URL) left out.
fn exported(dir: &Path) -> Vec<(String, String)> {
    files_under(&dir.join("output/reports"))
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let body = std::fs::read_to_string(&p).unwrap();
            let body = if name.ends_with(".json") {
                let mut stored: StoredReport = serde_json::from_str(&body).unwrap();
                stored.timestamp = cityflow_core::Timestamp::parse("2025-01-01T00:00:00Z").unwrap();
                stored.report.generated_at = stored.timestamp;
                // Where the input was read from differs by design; the figures must not.
                stored.built_from = None;
                serde_json::to_string_pretty(&stored).unwrap()
            } else {
                body
            };
            (name, body)
        })
        .collect()
}

#[test]
fn comptages_streamed_from_s3_give_the_same_reports_as_the_local_file() {
    let Some(aws) = Aws::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    for name in ["in.csv", "in.csv.gz"] {
        let input = simulate(dir.path(), name);
        aws.upload(&format!("comptages/{name}"), std::fs::read(&input).unwrap());
        let local = dir.path().join(format!("local-{name}"));
        let remote = dir.path().join(format!("remote-{name}"));
        std::fs::create_dir_all(&local).unwrap();
        std::fs::create_dir_all(&remote).unwrap();
        let vars = vec![
            ("AWS_ENDPOINT_URL_S3", aws.s3.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test-secret".into()),
        ];
        let from_disk = run(
            &local,
            &vars,
            &[
                "report",
                "generate",
                "--all",
                "--comptages",
                input.to_str().unwrap(),
            ],
        );
        assert!(from_disk.status.success(), "{}", text(&from_disk.stderr));
        let url = format!("s3://{}/comptages/{name}", aws.bucket);
        let from_s3 = run(
            &remote,
            &vars,
            &["report", "generate", "--all", "--json", "--comptages", &url],
        );
        assert!(from_s3.status.success(), "{}", text(&from_s3.stderr));
        let v: serde_json::Value = serde_json::from_slice(&from_s3.stdout).unwrap();
        assert_eq!(v["input"], url.as_str());
        assert_eq!(v["exports"].as_array().unwrap().len(), 4, "{name}");
        // The envelope records the object it was built from.
        let stored: StoredReport = serde_json::from_slice(
            &std::fs::read(remote.join("output/reports/daily_report_2025-10-26.json")).unwrap(),
        )
        .unwrap();
        let built_from = stored.built_from.expect("provenance recorded");
        assert_eq!(built_from.inputs.len(), 1);
        assert_eq!(built_from.inputs[0].location, url);
        assert!(
            built_from.inputs[0].version.starts_with('"'),
            "an ETag: {built_from:?}"
        );
        assert!(
            built_from.newest_modified_ms > 1_700_000_000_000,
            "{built_from:?}"
        );
        let (a, b) = (exported(&local), exported(&remote));
        assert_eq!(a.len(), 8, "{name}: 4 days, CSV and JSON");
        assert_eq!(a, b, "{name}: S3 and disk give the same reports");
    }
    // A missing object is the caller's mistake: exit 2, naming it.
    let url = format!("s3://{}/comptages/absent.csv", aws.bucket);
    let vars = vec![
        ("AWS_ENDPOINT_URL_S3", aws.s3.clone()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
    ];
    let out = run(
        dir.path(),
        &vars,
        &["report", "generate", "--all", "--comptages", &url],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&url), "{}", text(&out.stderr));
}

#[test]
fn a_download_cut_mid_way_is_resumed_or_fails_with_nothing_exported() {
    let Some(aws) = Aws::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = simulate(dir.path(), "cut.csv.gz");
    let size = std::fs::metadata(&input).unwrap().len() as usize;
    assert!(
        size > 200_000,
        "the object must be larger than the cut: {size}"
    );
    aws.upload("comptages/cut.csv.gz", std::fs::read(&input).unwrap());
    let url = format!("s3://{}/comptages/cut.csv.gz", aws.bucket);
    let proxy = FaultProxy::start(aws.s3.trim_start_matches("http://"));
    let vars = vec![
        ("AWS_ENDPOINT_URL_S3", proxy.http_url()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("LOG_LEVEL", "warn".into()),
    ];
    let reference = dir.path().join("reference");
    std::fs::create_dir(&reference).unwrap();
    let out = run(
        &reference,
        &vars,
        &[
            "report",
            "generate",
            "--all",
            "--comptages",
            input.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());

    // The first download and its first resumption are cut after 64 KB: the third GET,
    // ranged from the last byte received, completes the day.
    let resumed = dir.path().join("resumed");
    std::fs::create_dir(&resumed).unwrap();
    proxy.set_mode(Mode::CutAfter {
        bytes: 64 * 1024,
        connections: 2,
    });
    let out = run(
        &resumed,
        &vars,
        &["report", "generate", "--all", "--comptages", &url],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("resuming with a ranged GET"), "{stderr}");
    assert_eq!(exported(&reference), exported(&resumed));

    // Every connection cut after 32 KB: the download never flows steadily, the resumptions
    // run out, exit 1, nothing exported.
    let failed = dir.path().join("failed");
    std::fs::create_dir(&failed).unwrap();
    proxy.set_mode(Mode::CutAfter {
        bytes: 32 * 1024,
        connections: 1000,
    });
    let out = run(
        &failed,
        &vars,
        &["report", "generate", "--all", "--comptages", &url],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("the download of {url} was cut at byte")),
        "{stderr}"
    );
    assert!(
        files_under(&failed).is_empty(),
        "{:?}",
        files_under(&failed)
    );
}

/// `examples/raw/` uploaded under `raw/` of the bucket, as the old tool's pipeline left it.
fn upload_raw_examples(aws: &Aws) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/raw");
    for path in files_under(&root) {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        aws.upload(&format!("raw/{rel}"), std::fs::read(&path).unwrap());
    }
}

/// The figures of the example day, computed by hand in raw_sources.rs.
fn assert_raw_example_day(report: &cityflow_core::DailyReport) {
    assert_eq!(report.summary.total_velos_paris, 2976);
    assert_eq!(
        report.meteo_impact.as_ref().unwrap().impact_mobilite,
        Some(20.0)
    );
    let works: Vec<&str> = report
        .chantiers_actifs
        .iter()
        .map(|c| c.identifiant.as_str())
        .collect();
    assert_eq!(works, ["CP002664", "CP002669", "CP002871"]);
    let failing: Vec<&str> = report
        .capteurs_defaillants
        .iter()
        .filter(|s| s.kind == cityflow_core::SensorKind::Bike)
        .map(|s| s.id_compteur.as_str())
        .collect();
    assert_eq!(failing, ["100003096-353242252", "100044493-101044493"]);
    assert!(report.summary.total_vehicules_paris > 0);
}

#[test]
fn the_old_raw_layout_in_s3_in_local_and_aws_modes() {
    let Some(aws) = Aws::new() else { return };
    upload_raw_examples(&aws);
    let raw = format!("s3://{}/raw", aws.bucket);

    // Local mode: inputs from S3, the CSV to output/reports and the JSON to the file store.
    let dir = tempfile::tempdir().unwrap();
    let local_vars = vec![
        ("AWS_ENDPOINT_URL_S3", aws.s3.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test-secret".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    let out = run(
        dir.path(),
        &local_vars,
        &[
            "--json",
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--raw",
            &raw,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["exports"][0]["built_from"]["bikes"]["inputs"][0],
        format!(
            "s3://{}/raw/api/bikes/dt=2026-03-11/bikes_page_1.json",
            aws.bucket
        )
    );
    let stored: StoredReport = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("output/reports/daily_report_2026-03-10.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_raw_example_day(&stored.report);

    // AWS mode (a Rust Lambda function's environment): CITYFLOW_RAW unset, the layout given;
    // the CSV to S3, the JSON to DynamoDB, nothing local.
    let vars = aws.lambda_vars();
    let work = dir.path().join("task");
    std::fs::create_dir(&work).unwrap();
    let setup = run(&work, &vars, &["setup"]);
    assert!(setup.status.success(), "{}", text(&setup.stderr));
    let env = run(&work, &vars, &["env"]);
    let shown = text(&env.stdout);
    assert!(
        shown
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["CITYFLOW_RAW", &format!("s3://{}/raw", aws.bucket)]),
        "the default layout in AWS mode: {shown}"
    );
    let out = run_in_read_only_dir(
        &work,
        &vars,
        &["report", "generate", "--date", "2026-03-10", "--raw", &raw],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(files_under(&work).is_empty(), "{:?}", files_under(&work));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (in_dynamo, csv) = rt.block_on(async {
        let date = "2026-03-10".parse().unwrap();
        (
            DynamoReportStore::new(aws.config())
                .get(date)
                .await
                .unwrap(),
            S3BlobSink::new(aws.config())
                .get(&BlobKey::report_csv(date))
                .await
                .unwrap(),
        )
    });
    assert_raw_example_day(&in_dynamo.report);
    assert_eq!(in_dynamo.report.summary, stored.report.summary);
    assert_eq!(text(&csv), cityflow_core::render_csv(&in_dynamo.report));

    // A source given as an S3 prefix and as an S3 key, and one that names nothing.
    let other = tempfile::tempdir().unwrap();
    let out = run(
        other.path(),
        &local_vars,
        &[
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--bikes",
            &format!("{raw}/api/bikes/dt=2026-03-11"),
            "--weather",
            &format!("{raw}/api/weather/dt=2026-03-11/weather_paris.json"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(
        other.path(),
        &local_vars,
        &[
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--bikes",
            &format!("{raw}/api/nothing"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no file there"),
        "{}",
        text(&out.stderr)
    );
}

/// S3 answering `AccessDenied` (a bucket policy, a role without the permission: here the
/// fault proxy answers every request as S3 does then): on write and on read, exit 1, a
/// message naming the bucket and the denied action, and nothing half-written.
#[test]
fn s3_access_denied_on_write_and_on_read_names_the_bucket_and_the_action() {
    let Some(aws) = Aws::new() else { return };
    aws.upload("metrics/placeholder.txt", b"the bucket exists".to_vec());
    let proxy = FaultProxy::start(aws.s3.trim_start_matches("http://"));
    proxy.set_mode(Mode::DenyS3);
    let vars = vec![
        ("AWS_ENDPOINT_URL_S3", proxy.http_url()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test-secret".into()),
        ("S3_REPORTS_BUCKET", aws.bucket.clone()),
        ("LOG_LEVEL", "warn".into()),
    ];
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/metrics");

    // Write: the CSV to S3, the JSON to files.
    let dir = tempfile::tempdir().unwrap();
    let mut write_vars = vars.clone();
    write_vars.push(("USE_S3", "true".into()));
    let out = run(
        dir.path(),
        &write_vars,
        &[
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--metrics-dir",
            examples.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let said = format!("{stdout}{stderr}");
    for expected in [
        aws.bucket.as_str(),
        "AccessDenied",
        "s3:PutObject",
        "reports/daily_report_2026-03-10.csv",
    ] {
        assert!(said.contains(expected), "{expected:?} in:\n{said}");
    }
    assert!(!said.contains("test-secret"), "{said}");
    assert!(proxy.refused() > 0, "the requests went through the proxy");
    // Nothing half-written: S3 itself (not through the proxy) holds no report; the JSON,
    // another target, was written whole.
    let reports = {
        let mut config = aws.config();
        config.s3_prefix = "reports".into();
        let sink = S3BlobSink::new(config);
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async { sink.list("").await.unwrap() })
    };
    assert!(reports.is_empty(), "{reports:?}");
    let json = dir
        .path()
        .join("output/reports/daily_report_2026-03-10.json");
    serde_json::from_slice::<StoredReport>(&std::fs::read(json).unwrap()).unwrap();

    // Read: the metrics from the bucket; nothing is exported.
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &vars,
        &[
            "report",
            "generate",
            "--date",
            "2026-03-10",
            "--metrics-dir",
            &format!("s3://{}/metrics", aws.bucket),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for expected in [aws.bucket.as_str(), "AccessDenied", "s3:GetObject"] {
        assert!(stderr.contains(expected), "{expected:?} in:\n{stderr}");
    }
    assert!(files_under(dir.path()).is_empty(), "nothing exported");
}
