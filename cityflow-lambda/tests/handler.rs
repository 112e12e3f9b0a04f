//! The handler called as Lambda calls it, against the test servers (LocalStack S3, DynamoDB
//! Local from scripts/services): metrics uploaded to S3, reports read back from S3 and
//! DynamoDB.

mod common;

use cityflow_core::conformance::{service_endpoint, unique_name};
use cityflow_core::{BlobSink, DateRange, ReportStore};
use cityflow_lambda::{Function, InvocationError, Status};
use cityflow_storage::EnvMap;
use cityflow_storage_aws::{AwsConfig, AwsSettings, DynamoReportStore, S3BlobSink};
use common::{emulator_settings, fixtures, scheduled, upload_raw_examples};
use serde_json::{json, Value};

struct Harness {
    env: EnvMap,
    bucket: String,
    table: String,
    settings: AwsSettings,
}

impl Harness {
    async fn new() -> Option<Harness> {
        let s3 = service_endpoint("S3_TEST_ENDPOINT_URL")?;
        let dynamodb = service_endpoint("DYNAMODB_TEST_ENDPOINT_URL")?;
        let bucket = unique_name("cityflow-fn");
        let table = unique_name("cityflow-fn-reports");
        let env: EnvMap = [
            ("AWS_LAMBDA_FUNCTION_NAME", "cityflow-report"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL_S3", s3.as_str()),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("S3_REPORTS_BUCKET", bucket.as_str()),
            ("DYNAMODB_REPORTS_TABLE", table.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let settings = emulator_settings(&s3, &dynamodb, &bucket, &table);
        let h = Harness {
            env,
            bucket,
            table,
            settings,
        };
        h.csvs().setup().await.unwrap();
        h.reports().setup().await.unwrap();
        Some(h)
    }

    fn csvs(&self) -> S3BlobSink {
        S3BlobSink::new(AwsConfig::new(self.settings.clone()))
    }

    fn reports(&self) -> DynamoReportStore {
        DynamoReportStore::new(AwsConfig::new(self.settings.clone()))
    }

    async fn upload(&self, key: &str, bytes: Vec<u8>) {
        common::upload(&self.settings, key, bytes).await
    }

    async fn upload_fixture_day(&self) {
        common::upload_fixture_day(&self.settings).await
    }

    fn s3_event(&self, keys: &[&str]) -> Value {
        common::s3_event(&self.bucket, keys)
    }

    async fn stored_dates(&self) -> Vec<String> {
        self.reports()
            .list(DateRange::ALL)
            .await
            .unwrap()
            .iter()
            .map(|d| d.to_string())
            .collect()
    }

    async fn csv_keys(&self) -> Vec<String> {
        self.csvs()
            .list("")
            .await
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect()
    }
}

#[tokio::test]
async fn the_morning_schedule_builds_yesterday_once_however_often_it_fires() {
    let Some(h) = Harness::new().await else {
        return;
    };
    h.upload_fixture_day().await;
    let function = Function::from_env(&h.env).await.unwrap();
    // 05:30 UTC on the 5th is 06:30 in Paris: the report of the 4th.
    for _ in 0..2 {
        let summary = function
            .handle(&scheduled("2025-11-05T05:30:00Z"))
            .await
            .unwrap();
        assert_eq!(summary.trigger, "scheduled");
        assert_eq!(summary.dates.len(), 1);
        let d = &summary.dates[0];
        assert_eq!(d.date.to_string(), "2025-11-04");
        assert_eq!(d.status, Status::Exported);
        assert_eq!(
            d.csv,
            format!("s3://{}/reports/daily_report_2025-11-04.csv", h.bucket)
        );
        assert_eq!(
            d.json,
            format!("dynamodb://{}/daily_report_2025-11-04", h.table)
        );
        // The fixtures have no comptages file: the warning travels with the answer.
        let reason = d.reason.as_deref().unwrap();
        assert!(
            reason.contains(&format!(
                "s3://{}/metrics/comptages_metrics_2025-11-04.json not found",
                h.bucket
            )),
            "{reason}"
        );
    }
    // Delivered twice: one item and one CSV object.
    assert_eq!(h.stored_dates().await, ["2025-11-04"]);
    assert_eq!(h.csv_keys().await, ["daily_report_2025-11-04.csv"]);
    let stored = h
        .reports()
        .get("2025-11-04".parse().unwrap())
        .await
        .unwrap();
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
}

#[tokio::test]
async fn s3_notifications_rebuild_their_dates_and_skip_other_kinds() {
    let Some(h) = Harness::new().await else {
        return;
    };
    h.upload_fixture_day().await;
    // A raw export whose name needs URL encoding in notifications.
    let csv = cityflow_ingest_sample();
    h.upload("comptages/export du 1er.csv", csv).await;
    let function = Function::from_env(&h.env).await.unwrap();
    let summary = function
        .handle(&h.s3_event(&[
            "metrics/bikes_metrics_2025-11-04.json",
            "metrics/weather_metrics_2025-11-04.json",
            "metrics/traffic_metrics_2025-11-04.json",
            "metrics/traffic_metrics_2025-11-03.json",
            "comptages/export+du+1er.csv",
        ]))
        .await
        .unwrap();
    let statuses: Vec<(String, Status)> = summary
        .dates
        .iter()
        .map(|d| (d.date.to_string(), d.status.clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("2025-10-01".to_string(), Status::Exported),
            ("2025-10-02".to_string(), Status::Exported),
            ("2025-11-03".to_string(), Status::Skipped),
            ("2025-11-04".to_string(), Status::Exported),
        ]
    );
    let skipped = &summary.dates[2];
    assert!(skipped
        .reason
        .as_deref()
        .unwrap()
        .contains("traffic metrics"));
    assert!(skipped.csv.ends_with("daily_report_2025-11-03.csv"));
    assert_eq!(
        h.stored_dates().await,
        ["2025-10-01", "2025-10-02", "2025-11-04"]
    );
}

/// Two days of raw open data on three arcs, in the export's schema.
fn cityflow_ingest_sample() -> Vec<u8> {
    let mut csv = String::from(
        "Identifiant arc;Libelle;Date et heure de comptage;Débit horaire;Taux d'occupation;Etat trafic;Etat arc\n",
    );
    for day in ["2025-10-01", "2025-10-02"] {
        for arc in [1, 2, 3] {
            for hour in 0..24 {
                csv.push_str(&format!(
                    "{arc};Arc {arc};{day}T{hour:02}:00:00+02:00;{};{};Fluide;Ouvert\n",
                    100 * arc + hour,
                    10 + hour
                ));
            }
        }
    }
    csv.into_bytes()
}

#[tokio::test]
async fn direct_invocations_dry_runs_and_bad_payloads() {
    let Some(h) = Harness::new().await else {
        return;
    };
    h.upload_fixture_day().await;
    let function = Function::from_env(&h.env).await.unwrap();

    // A dry run computes and writes nothing.
    let summary = function
        .handle(&json!({"date": "2025-11-04", "dry_run": true}))
        .await
        .unwrap();
    assert_eq!(summary.dates[0].status, Status::Skipped);
    assert!(summary.dry_run);
    assert!(h.stored_dates().await.is_empty());

    // Bad payloads: an invocation error, nothing written.
    for bad in [
        json!({"date": "2025-02-30"}),
        json!({"from": "2025-01-01", "to": "2025-03-01"}),
        json!({"unexpected": true}),
        h.s3_event(&["metrics/readme.md"]),
    ] {
        let e = function.handle(&bad).await.unwrap_err();
        assert!(matches!(e, InvocationError::BadEvent(_)), "{bad}: {e}");
    }
    let mut other = h.s3_event(&["metrics/bikes_metrics_2025-11-04.json"]);
    other["Records"][0]["s3"]["bucket"]["name"] = json!("someone-elses-bucket");
    let e = function.handle(&other).await.unwrap_err();
    assert!(e.to_string().contains("someone-elses-bucket"), "{e}");
    assert!(h.stored_dates().await.is_empty());
    assert!(h.csv_keys().await.is_empty());

    // A range: the day with metrics is exported, the days without fail; the invocation
    // fails naming the first, so that Lambda retries it.
    let e = function
        .handle(&json!({"from": "2025-11-03", "to": "2025-11-04"}))
        .await
        .unwrap_err();
    let InvocationError::Export {
        failed,
        total,
        summary,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!((*failed, *total), (1, 2));
    assert_eq!(summary.dates[0].status, Status::Failed);
    assert!(e.to_string().contains("2025-11-03: "), "{e}");
    assert!(e.to_string().contains("no metrics file"), "{e}");
    assert_eq!(summary.dates[1].status, Status::Exported);
    assert_eq!(h.stored_dates().await, ["2025-11-04"]);
}

#[tokio::test]
async fn a_failed_target_fails_the_invocation_naming_it() {
    let Some(h) = Harness::new().await else {
        return;
    };
    h.upload_fixture_day().await;
    let mut env = h.env.clone();
    let missing = unique_name("cityflow-no-table");
    env.insert("DYNAMODB_REPORTS_TABLE".into(), missing.clone());
    let function = Function::from_env(&env).await.unwrap();
    let e = function
        .handle(&json!({"date": "2025-11-04"}))
        .await
        .unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains(&format!("DynamoDB table {missing}")),
        "{message}"
    );
    let InvocationError::Export { summary, .. } = e else {
        panic!("{message}")
    };
    assert_eq!(summary.dates[0].status, Status::Failed);
    assert_eq!(
        summary.dates[0].json,
        format!("dynamodb://{missing}/daily_report_2025-11-04")
    );
}

/// The example raw day (`examples/raw/`, hand-computed in cityflow-cli/tests/raw_sources.rs):
/// a bike page landing under `raw/api/bikes/dt=2026-03-11/` rebuilds the 10th and the 11th
/// from the layout; the schedule of the 11th builds the 10th from it.
#[tokio::test]
async fn a_raw_upload_rebuilds_its_days_from_the_old_layout_in_s3() {
    let Some(h) = Harness::new().await else {
        return;
    };
    let keys = upload_raw_examples(&h.settings).await;
    assert!(keys.contains(&"raw/batch/chantiers-perturbants-la-circulation.csv".to_string()));
    let function = Function::from_env(&h.env).await.unwrap();
    let summary = function
        .handle(&h.s3_event(&["raw/api/bikes/dt%3D2026-03-11/bikes_page_1.json"]))
        .await
        .unwrap();
    let dates: Vec<(String, Status)> = summary
        .dates
        .iter()
        .map(|d| (d.date.to_string(), d.status.clone()))
        .collect();
    assert_eq!(
        dates,
        [
            ("2026-03-10".to_string(), Status::Exported),
            ("2026-03-11".to_string(), Status::Exported)
        ]
    );
    let stored = h
        .reports()
        .get("2026-03-10".parse().unwrap())
        .await
        .unwrap();
    let r = &stored.report;
    assert_eq!(r.summary.total_velos_paris, 2976);
    assert_eq!(r.meteo_impact.as_ref().unwrap().impact_mobilite, Some(20.0));
    assert_eq!(
        r.chantiers_actifs
            .iter()
            .map(|c| c.identifiant.as_str())
            .collect::<Vec<_>>(),
        ["CP002664", "CP002669", "CP002871"]
    );
    assert!(
        r.summary.total_vehicules_paris > 0,
        "the layout's comptages"
    );
    let sections = &stored.built_from.as_ref().unwrap().sections;
    for s in ["comptages", "bikes", "weather", "chantiers"] {
        assert_eq!(sections[s].from, cityflow_core::SectionFrom::Raw, "{s}");
    }
    assert!(sections["bikes"].inputs[0].starts_with(&format!("s3://{}/raw/api/bikes/", h.bucket)));
    // The 11th: no bike record (its counts arrive on the 12th), its own weather.
    let eleventh = h
        .reports()
        .get("2026-03-11".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        eleventh.report.meteo_impact.unwrap().date,
        Some("2026-03-11".parse().unwrap())
    );

    // The morning schedule of the 11th reports the 10th from the layout: the same figures.
    let summary = function
        .handle(&scheduled("2026-03-11T05:30:00Z"))
        .await
        .unwrap();
    assert_eq!(summary.dates.len(), 1);
    assert_eq!(summary.dates[0].date.to_string(), "2026-03-10");
    let again = h
        .reports()
        .get("2026-03-10".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(again.report.summary, stored.report.summary);
    assert_eq!(h.stored_dates().await, ["2026-03-10", "2026-03-11"]);
}
