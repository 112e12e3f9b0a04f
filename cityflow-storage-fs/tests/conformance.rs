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

/// The summary index across a writer killed between the report and its year file (the
/// marker it leaves is read around, then repaired by the next write), and across a
/// directory written before the index existed (read from the reports, built by setup).
#[tokio::test]
async fn the_summary_index_survives_a_killed_writer_and_older_directories() {
    use cityflow_core::{
        conformance::sample_report, DateRange, ReportStore, ReportSummary, StoredReport,
        SummaryQuery, Timestamp,
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reports");
    let store = FsReportStore::new(&root);
    let days: Vec<chrono::NaiveDate> = ["2025-12-31", "2026-01-01", "2026-01-02"]
        .iter()
        .map(|d| d.parse().unwrap())
        .collect();
    let mut written = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let report = StoredReport::new(sample_report(*d, i as u32), Timestamp::now());
        store.put(&report).await.unwrap();
        written.push(report);
    }
    let all = SummaryQuery::oldest_first(DateRange::ALL, 100);
    let summaries = |w: &[StoredReport]| w.iter().map(ReportSummary::of).collect::<Vec<_>>();
    assert_eq!(store.summaries(all).await.unwrap(), summaries(&written));
    let index = root.join(".summaries");
    assert!(index.join("daily_summaries_2025.jsonl").is_file());
    assert!(index.join("daily_summaries_2026.jsonl").is_file());

    // The summaries' token: one per year file, so a year's answers keep theirs while
    // another year is written.
    let year_2025 = DateRange {
        from: Some("2025-01-01".parse().unwrap()),
        to: Some("2025-12-31".parse().unwrap()),
    };
    let token_2025 = store.summaries_version(year_2025).await.unwrap();
    let token_all = store.summaries_version(DateRange::ALL).await.unwrap();
    assert!(token_2025.is_some() && token_all.is_some());

    // Killed after writing the report of 2026-01-01, before its year file.
    let replaced = StoredReport::new(sample_report(days[1], 9), Timestamp::now());
    std::fs::write(index.join("pending_2026-01-01"), b"").unwrap();
    std::fs::write(
        store.path_of(days[1]),
        serde_json::to_vec_pretty(&replaced).unwrap(),
    )
    .unwrap();
    written[1] = replaced;
    assert_eq!(
        store.summaries_version(DateRange::ALL).await.unwrap(),
        None,
        "no token while a date of the range is marked: its report says"
    );
    assert_eq!(
        store.summaries_version(year_2025).await.unwrap(),
        token_2025,
        "a mark outside the range leaves the token"
    );
    assert_eq!(
        store.summaries(all).await.unwrap(),
        summaries(&written),
        "a marked date is read from its report"
    );
    // The next write repairs the year file and removes the marker.
    let d4: chrono::NaiveDate = "2026-01-03".parse().unwrap();
    let fourth = StoredReport::new(sample_report(d4, 4), Timestamp::now());
    store.put(&fourth).await.unwrap();
    written.push(fourth);
    assert!(!index.join("pending_2026-01-01").exists());
    let year = std::fs::read_to_string(index.join("daily_summaries_2026.jsonl")).unwrap();
    assert!(
        year.contains(&serde_json::to_string(&ReportSummary::of(&written[1])).unwrap()),
        "repaired: {year}"
    );
    assert_eq!(store.summaries(all).await.unwrap(), summaries(&written));
    let repaired = store.summaries_version(DateRange::ALL).await.unwrap();
    assert!(repaired.is_some() && repaired != token_all, "{repaired:?}");
    assert_eq!(
        store.summaries_version(year_2025).await.unwrap(),
        token_2025
    );

    // A directory written before the index existed.
    std::fs::remove_dir_all(&index).unwrap();
    assert_eq!(
        store.summaries_version(DateRange::ALL).await.unwrap(),
        None,
        "no index, no token"
    );
    assert_eq!(
        store.summaries(all).await.unwrap(),
        summaries(&written),
        "read from the reports meanwhile"
    );
    let progress = std::sync::Arc::new(cityflow_core::conformance::RecordedProgress::default());
    let actions = store.setup_with_progress(progress.clone()).await.unwrap();
    progress.assert_one_step("indexing the reports", 4);
    assert!(
        actions.iter().any(|a| a.created
            && a.resource.contains("summary index")
            && a.resource.contains("(4 reports)")),
        "{actions:?}"
    );
    assert!(index.join("daily_summaries_2026.jsonl").is_file());
    assert_eq!(store.summaries(all).await.unwrap(), summaries(&written));
    let again = store.setup().await.unwrap();
    assert!(again.iter().all(|a| !a.created), "{again:?}");
}
