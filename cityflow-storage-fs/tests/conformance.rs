//! The shared conformance suite on the filesystem backends.

use cityflow_core::conformance::{blob_sink_suite, report_store_suite};
use cityflow_storage_fs::{FsBlobSink, FsReportStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_report_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    report_store_suite(&FsReportStore::new(dir.path().join("reports"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_blob_sink_conforms() {
    let dir = tempfile::tempdir().unwrap();
    blob_sink_suite(&FsBlobSink::new(dir.path().join("reports"))).await;
}

#[tokio::test]
async fn reports_and_csv_share_the_reports_directory_without_confusion() {
    use cityflow_core::{
        conformance::sample_report, BlobSinkExt, DateRange, ReportStore, ReportStoreExt, Timestamp,
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reports");
    let store = FsReportStore::new(&root);
    let sink = FsBlobSink::new(&root);
    let date = "2025-11-04".parse().unwrap();
    let report = sample_report(date, 1);
    let csv = sink
        .put_report_csv(date, cityflow_core::render_csv(&report))
        .await
        .unwrap();
    let json = store.put_report(&report, Timestamp::now()).await.unwrap();
    assert_eq!(
        csv,
        root.join("daily_report_2025-11-04.csv")
            .display()
            .to_string()
    );
    assert_eq!(
        json,
        root.join("daily_report_2025-11-04.json")
            .display()
            .to_string()
    );
    assert_eq!(store.list(DateRange::ALL).await.unwrap(), vec![date]);
    // The JSON file is the pretty envelope of the seed: report_id, date, timestamp, report.
    let text = std::fs::read_to_string(root.join("daily_report_2025-11-04.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["report_id"], "daily_report_2025-11-04");
    assert_eq!(v["date"], "2025-11-04");
    assert!(v["timestamp"].is_string());
    assert_eq!(v["report"]["date"], "2025-11-04");
    assert!(text.contains("\n  \"report\": {\n"), "pretty-printed");
}

#[tokio::test]
async fn a_corrupt_report_file_is_a_clear_error() {
    use cityflow_core::{ErrorKind, ReportStore};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("daily_report_2025-11-04.json"), "{ half").unwrap();
    let store = FsReportStore::new(dir.path());
    let err = store.get("2025-11-04".parse().unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    let msg = err.to_string();
    assert!(msg.contains("daily_report_2025-11-04.json"), "{msg}");
    assert!(msg.contains("not a valid stored report"), "{msg}");
}
