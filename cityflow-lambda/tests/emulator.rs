//! End to end: the release binary `cityflow-report-lambda` served by cargo-lambda's Lambda
//! emulator (`cargo lambda watch --only-lambda-apis`, offline), each event sent with
//! `cargo lambda invoke --data-file`, against the test servers' S3 and DynamoDB.
//!
//! Needs `CARGO_LAMBDA` (the cargo-lambda executable) and the release binary
//! (`CITYFLOW_LAMBDA_BIN`, default `target/release/cityflow-report-lambda`); `scripts/test`
//! installs the first (pinned) and builds the second. With `CI=true` a missing one fails the
//! test instead of skipping it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

use cityflow_core::conformance::{service_endpoint, unique_name};
use cityflow_core::{BlobSink, DateRange, ReportStore};
use cityflow_storage_aws::{AwsConfig, DynamoReportStore, S3BlobSink};
use common::emulator::{free_port, function_env, required, root, start_emulator, Running};
use common::{
    emulator_settings, s3_event, scheduled, upload, upload_fixture_day, upload_raw_examples,
};
use serde_json::{json, Value};

struct Emulator {
    cargo_lambda: PathBuf,
    port: u16,
    work: PathBuf,
}

impl Emulator {
    /// Sends `event` with `cargo lambda invoke --data-file`.
    fn invoke(&self, name: &str, event: &Value) -> Output {
        let file = self.work.join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(event).unwrap()).unwrap();
        Command::new(&self.cargo_lambda)
            .args(["lambda", "invoke", "_", "--data-file"])
            .arg(&file)
            .args(["-A", "127.0.0.1", "-P", &self.port.to_string()])
            .output()
            .unwrap()
    }

    fn answer(&self, name: &str, event: &Value) -> Value {
        let out = self.invoke(name, event);
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_release_binary_under_the_emulator() {
    let Some(cargo_lambda) = required("CARGO_LAMBDA", None) else {
        return;
    };
    let Some(binary) = required(
        "CITYFLOW_LAMBDA_BIN",
        Some(root().join("target/release/cityflow-report-lambda")),
    ) else {
        return;
    };
    let (Some(s3), Some(dynamodb)) = (
        service_endpoint("S3_TEST_ENDPOINT_URL"),
        service_endpoint("DYNAMODB_TEST_ENDPOINT_URL"),
    ) else {
        return;
    };
    let bucket = unique_name("cityflow-e2e");
    let table = unique_name("cityflow-e2e");
    let settings = emulator_settings(&s3, &dynamodb, &bucket, &table);
    let csvs = S3BlobSink::new(AwsConfig::new(settings.clone()));
    let reports = DynamoReportStore::new(AwsConfig::new(settings.clone()));
    csvs.setup().await.unwrap();
    reports.setup().await.unwrap();
    upload_fixture_day(&settings).await;

    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _emulator = start_emulator(&cargo_lambda, port, work.path());
    let mut cmd = Command::new(&binary);
    function_env(
        &mut cmd,
        port,
        &[
            ("AWS_ENDPOINT_URL_S3", &s3),
            ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "canary-e2e-secret-value"),
            ("S3_REPORTS_BUCKET", &bucket),
            ("DYNAMODB_REPORTS_TABLE", &table),
        ],
    );
    let logs = work.path().join("function.log");
    let _function = Running(
        cmd.current_dir(work.path())
            .stdout(std::fs::File::create(&logs).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let emulator = Emulator {
        cargo_lambda,
        port,
        work: work.path().to_path_buf(),
    };

    // The morning schedule, delivered twice.
    let scheduled = scheduled("2025-11-05T05:30:00Z");
    for attempt in ["scheduled", "scheduled-again"] {
        let answer = emulator.answer(attempt, &scheduled);
        assert_eq!(answer["trigger"], "scheduled");
        assert_eq!(answer["dates"][0]["date"], "2025-11-04");
        assert_eq!(answer["dates"][0]["status"], "exported", "{answer}");
        assert_eq!(
            answer["dates"][0]["csv"],
            format!("s3://{bucket}/reports/daily_report_2025-11-04.csv")
        );
        assert_eq!(
            answer["dates"][0]["json"],
            format!("dynamodb://{table}/daily_report_2025-11-04")
        );
    }

    // A raw export whose name arrives URL-encoded: every day it covers.
    let mut csv = String::from(
        "Identifiant arc;Libelle;Date et heure de comptage;Débit horaire;Taux d'occupation;Etat trafic\n",
    );
    for day in ["2025-10-01", "2025-10-02"] {
        for hour in 0..24 {
            csv.push_str(&format!(
                "7;Arc 7;{day}T{hour:02}:00:00+02:00;{};12;Fluide\n",
                100 + hour
            ));
        }
    }
    upload(&settings, "comptages/export du 1er.csv", csv.into_bytes()).await;
    let answer = emulator.answer("s3", &s3_event(&bucket, &["comptages/export+du+1er.csv"]));
    let days: Vec<&str> = answer["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2025-10-01", "2025-10-02"], "{answer}");

    // The old tool's raw layout under raw/: a bike page of the 11th's fetch rebuilds the
    // 10th and the 11th, every section from the raw data (figures in raw_sources.rs).
    upload_raw_examples(&settings).await;
    let answer = emulator.answer(
        "raw",
        &s3_event(
            &bucket,
            &["raw/api/bikes/dt%3D2026-03-11/bikes_page_2.json"],
        ),
    );
    let days: Vec<(&str, &str)> = answer["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        days,
        [("2026-03-10", "exported"), ("2026-03-11", "exported")],
        "{answer}"
    );
    let tenth = reports.get("2026-03-10".parse().unwrap()).await.unwrap();
    assert_eq!(tenth.report.summary.total_velos_paris, 2976);
    assert_eq!(tenth.report.chantiers_actifs.len(), 3);
    assert_eq!(
        tenth.report.meteo_impact.as_ref().unwrap().impact_mobilite,
        Some(20.0)
    );

    // A direct date, and a bad payload: an invocation error, nothing written.
    let answer = emulator.answer("direct", &json!({"date": "2025-11-04"}));
    assert_eq!(answer["dates"][0]["status"], "exported");
    let out = emulator.invoke("bad", &json!({"date": "2025-11-06", "dryrun": true}));
    assert!(
        !out.status.success(),
        "a bad payload must fail the invocation"
    );
    let said =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("unknown field"), "{said}");

    // Read back: one item and one CSV object per date.
    let dates: Vec<String> = reports
        .list(DateRange::ALL)
        .await
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        dates,
        [
            "2025-10-01",
            "2025-10-02",
            "2025-11-04",
            "2026-03-10",
            "2026-03-11"
        ]
    );
    let keys: Vec<String> = csvs
        .list("")
        .await
        .unwrap()
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "daily_report_2025-10-01.csv",
            "daily_report_2025-10-02.csv",
            "daily_report_2025-11-04.csv",
            "daily_report_2026-03-10.csv",
            "daily_report_2026-03-11.csv"
        ]
    );
    let stored = reports.get("2025-11-04".parse().unwrap()).await.unwrap();
    let provenance = stored.built_from.expect("provenance recorded");
    assert_eq!(provenance.inputs.len(), 3, "{provenance:?}");

    // JSON lines with the request id, and no secret.
    let logs = std::fs::read_to_string(&logs).unwrap();
    assert!(
        logs.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{logs}"
    );
    assert!(
        logs.contains("request_id") || logs.contains("requestId"),
        "{logs}"
    );
    assert!(!logs.contains("canary-e2e-secret-value"), "{logs}");
    assert!(!Path::new(&work.path().join("output")).exists());
}
