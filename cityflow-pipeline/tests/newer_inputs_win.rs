//! "Newer inputs win" through the export pipeline, on every backend: whatever the order or
//! the interleaving of two builds of one day, the stored JSON and the CSV both reflect the
//! build from the newest inputs, and a refused build is `skipped`, not a failure.

use std::collections::BTreeMap;

use cityflow_core::conformance::{sample_report, service_endpoint, unique_name};
use cityflow_core::{render_csv, BlobKey, DailyReport, InputVersion, Provenance};
use cityflow_pipeline::export_report;
use cityflow_storage::{Storage, StorageConfig};
use futures_util::future::join_all;

/// The targets of each backend: files; JSON in MongoDB; S3 + DynamoDB (AWS mode).
async fn backends(dir: &std::path::Path) -> Vec<Storage> {
    let mut envs: Vec<Vec<(&str, String)>> = vec![vec![(
        "OUTPUT_DIR",
        dir.join("files").display().to_string(),
    )]];
    if let Some(url) = service_endpoint("MONGODB_TEST_URL") {
        envs.push(vec![
            ("OUTPUT_DIR", dir.join("mongo").display().to_string()),
            ("DATABASE_TYPE", "mongodb".into()),
            ("MONGODB_URL", url),
            ("MONGODB_DATABASE", unique_name("newer").replace('-', "_")),
        ]);
    }
    if let (Some(s3), Some(dynamodb)) = (
        service_endpoint("S3_TEST_ENDPOINT_URL"),
        service_endpoint("DYNAMODB_TEST_ENDPOINT_URL"),
    ) {
        envs.push(vec![
            ("CITYFLOW_ENV", "aws".into()),
            ("AWS_ENDPOINT_URL_S3", s3),
            ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("S3_REPORTS_BUCKET", unique_name("newer")),
            ("DYNAMODB_REPORTS_TABLE", unique_name("newer")),
        ]);
    }
    let mut out = Vec::new();
    for vars in envs {
        let env: BTreeMap<String, String> =
            vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let storage = cityflow_storage::build(&StorageConfig::from_env(&env).unwrap())
            .await
            .unwrap();
        storage.blobs.setup().await.unwrap();
        storage.reports.setup().await.unwrap();
        out.push(storage);
    }
    out
}

fn built_at(ms: i64) -> Provenance {
    Provenance::of(vec![InputVersion {
        location: "s3://in/metrics/bikes_metrics_2031-03-01.json".into(),
        size: 10,
        version: format!("\"{ms}\""),
        modified_ms: ms,
    }])
}

/// The report of a build whose inputs were modified at `ms`: its figures say which it is.
fn report(ms: i64) -> DailyReport {
    let mut r = sample_report("2031-03-01".parse().unwrap(), 1);
    r.summary.total_velos_paris = ms as u64;
    r
}

/// Both targets hold the build of `ms`.
async fn assert_holds(storage: &Storage, ms: i64, what: &str) {
    let name = storage.reports.describe();
    let date = "2031-03-01".parse().unwrap();
    let stored = storage.reports.get(date).await.unwrap();
    assert_eq!(stored.report, report(ms), "[{name}] {what}: JSON");
    assert_eq!(
        stored.built_from.as_ref().map(|p| p.newest_modified_ms),
        Some(ms),
        "[{name}] {what}: provenance"
    );
    let csv = storage.blobs.get(&BlobKey::report_csv(date)).await.unwrap();
    assert_eq!(
        std::str::from_utf8(&csv).unwrap(),
        render_csv(&report(ms)),
        "[{name}] {what}: the CSV follows its JSON"
    );
}

#[tokio::test]
async fn newer_inputs_win_in_either_order_and_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    for storage in backends(dir.path()).await {
        let name = storage.reports.describe();
        let (old, new) = (1_800_000_000_000, 1_800_000_300_000);
        let date = "2031-03-01".parse().unwrap();

        // Older, then newer: both written, the newer holds.
        let e = export_report(&storage, &report(old), Some(built_at(old))).await;
        assert!(e.ok() && e.superseded().is_none(), "[{name}] {e:?}");
        let e = export_report(&storage, &report(new), Some(built_at(new))).await;
        assert!(e.ok() && e.superseded().is_none(), "[{name}] {e:?}");
        assert_holds(&storage, new, "older then newer").await;

        // Newer, then older (a late retry of an old event): skipped on both targets.
        let e = export_report(&storage, &report(old), Some(built_at(old))).await;
        assert!(e.ok(), "[{name}] a refused build is not a failure: {e:?}");
        assert!(e.superseded().is_some(), "[{name}] {e:?}");
        assert!(
            e.csv.skipped.is_some() && e.csv.location.is_none(),
            "[{name}] {e:?}"
        );
        assert_holds(&storage, new, "newer then older").await;

        // The same event delivered again: equal inputs rewrite the same content.
        let e = export_report(&storage, &report(new), Some(built_at(new))).await;
        assert!(e.ok() && e.superseded().is_none(), "[{name}] {e:?}");
        assert_holds(&storage, new, "equal inputs").await;

        // Eight builds at once, from different inputs, in rounds (interleavings vary from
        // run to run; several rounds make a CSV left behind by a slower writer likely to
        // show): the newest wins on both targets.
        for round in 0..6i64 {
            let base = new + (round + 1) * 100_000;
            let stamps: Vec<i64> = (1..=8)
                .map(|i| base + ((i * 5 + round) % 8) * 1000)
                .collect();
            let reports: Vec<(DailyReport, i64)> =
                stamps.iter().map(|ms| (report(*ms), *ms)).collect();
            let exports = join_all(
                reports
                    .iter()
                    .map(|(r, ms)| export_report(&storage, r, Some(built_at(*ms)))),
            )
            .await;
            for e in &exports {
                assert!(e.ok(), "[{name}] concurrent build: {e:?}");
            }
            assert_holds(&storage, *stamps.iter().max().unwrap(), "concurrent builds").await;
        }
        storage.reports.delete(date).await.unwrap();
    }
}
