//! `cityflow` in AWS mode (`AWS_EXECUTION_ENV` set, as in Lambda) end to end against the
//! test servers: S3 on LocalStack, DynamoDB on DynamoDB Local (scripts/services).

mod common;

use std::time::{Duration, Instant};

use cityflow_core::conformance::{service_endpoint, unique_name};
use cityflow_core::{BlobKey, BlobSink, ReportStore};
use cityflow_storage_aws::{DynamoReportStore, S3BlobSink};
use common::{cityflow, closed_port, emulator_aws_config, examples, golden_csv, stdout_of};

#[test]
fn aws_mode_exports_to_s3_and_dynamodb_and_reads_back() {
    let (Some(s3), Some(dynamodb)) = (
        service_endpoint("S3_TEST_ENDPOINT_URL"),
        service_endpoint("DYNAMODB_TEST_ENDPOINT_URL"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique_name("cityflow-cli");
    let table = unique_name("cityflow-cli-reports");
    let vars = [
        [("AWS_EXECUTION_ENV", "AWS_Lambda_python3.10")].as_slice(),
        &common::emulator_vars(&s3, &dynamodb, &bucket, &table),
    ]
    .concat();

    let out = stdout_of(&cityflow(dir.path(), &vars).arg("setup").assert().success());
    assert!(
        out.contains(&format!("✓ created: bucket S3 bucket {bucket}")),
        "{out}"
    );
    assert!(
        out.contains(&format!("✓ created: table DynamoDB table {table}")),
        "{out}"
    );
    assert!(out.contains("✓ created: TTL on attribute ttl"), "{out}");
    assert!(
        out.contains(&format!(
            "✓ created: index reports_by_date of DynamoDB table {table}"
        )),
        "{out}"
    );
    let out = stdout_of(&cityflow(dir.path(), &vars).arg("setup").assert().success());
    assert!(out.contains("0 created, 5 already there"), "{out}");

    let out = stdout_of(
        &cityflow(dir.path(), &vars)
            .args([
                "report",
                "generate",
                "--date",
                "2026-03-10",
                "--metrics-dir",
            ])
            .arg(examples())
            .assert()
            .success(),
    );
    let location = format!("s3://{bucket}/reports/daily_report_2026-03-10.csv");
    assert!(out.contains("[Export CSV] → S3 Bucket"), "{out}");
    assert!(out.contains(&format!("✓ Rapport CSV: {location}")), "{out}");
    assert!(out.contains("[Export JSON] → DYNAMODB"), "{out}");
    assert!(
        out.contains("☁️  Rapport exporté en mode AWS PRODUCTION"),
        "{out}"
    );
    assert!(
        !dir.path().join("output").exists(),
        "nothing written locally in AWS mode"
    );

    let shown = cityflow(dir.path(), &vars)
        .args(["report", "show", "--date", "2026-03-10"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let shown: cityflow_core::StoredReport = serde_json::from_slice(&shown).unwrap();
    cityflow(dir.path(), &vars)
        .args(["report", "show", "--date", "2026-03-10", "--format", "csv"])
        .assert()
        .success()
        .stdout(golden_csv());
    cityflow(dir.path(), &vars)
        .args(["report", "list"])
        .assert()
        .success()
        .stdout("2026-03-10\n");

    // Read back through the crate, without any AWS tool.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = emulator_aws_config(&s3, &dynamodb, &bucket, &table);
        let date = "2026-03-10".parse().unwrap();
        let stored = DynamoReportStore::new(config.clone())
            .get(date)
            .await
            .unwrap();
        assert_eq!(stored, shown);
        assert_eq!(stored.report.summary.total_vehicules_paris, 18452310);
        let csv = S3BlobSink::new(config)
            .get(&BlobKey::report_csv(date))
            .await
            .unwrap();
        assert_eq!(csv, golden_csv().as_bytes());
    });
}

#[test]
fn a_stopped_dynamodb_endpoint_exits_1_within_15_s_naming_the_service() {
    let port = closed_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let assert = cityflow(
        dir.path(),
        &[
            ("DATABASE_TYPE", "dynamodb"),
            ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
            ("AWS_ACCESS_KEY_ID", "AKIDCANARY"),
            ("AWS_SECRET_ACCESS_KEY", "canary-secret-5150"),
            ("AWS_SESSION_TOKEN", "canary-token-8086"),
            ("LOG_LEVEL", "trace"),
        ],
    )
    .args([
        "report",
        "generate",
        "--date",
        "2026-03-10",
        "--metrics-dir",
    ])
    .arg(examples())
    .assert()
    .code(1);
    let elapsed = started.elapsed();
    let stdout = stdout_of(&assert);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stdout.contains("✓ Rapport CSV: output/reports/"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ Échec de l'export JSON vers DYNAMODB"),
        "{stdout}"
    );
    assert!(stdout.contains("DynamoDB"), "{stdout}");
    assert!(stdout.contains(&endpoint), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains("canary-secret-5150"),
            "secret leaked: {text}"
        );
        assert!(!text.contains("canary-token-8086"), "token leaked: {text}");
    }
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}
