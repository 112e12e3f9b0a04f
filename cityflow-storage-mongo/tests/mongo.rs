//! The MongoDB backend against a real server: `MONGODB_TEST_URL` (scripts/services starts
//! SecantusDB and sets it; point it at a real `mongod` to run the same tests there), or, when
//! it is unset, a container of `CITYFLOW_TEST_MONGODB_IMAGE` (default `mongo:8.0`) started for
//! this test binary (`cityflow_core::test_servers`).
//! Each test works in a database of its own, dropped at the end.

use std::time::{Duration, Instant};

use cityflow_core::conformance::{report_store_suite, sample_report, unique_name};
use cityflow_core::test_servers::{endpoint, MONGODB};
use cityflow_core::{ErrorKind, ReportStore, StoredReport, Timestamp};
use cityflow_storage_mongo::{MongoConfig, MongoReportStore};
use futures_util::future::join_all;
use mongodb::bson::{doc, Bson, Document};

fn store(url: &str) -> MongoReportStore {
    MongoReportStore::new(MongoConfig::new(url, unique_name("cityflow-test")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_report_store_conforms() {
    let Some(url) = endpoint(&MONGODB).await else {
        return;
    };
    let store = store(&url);
    report_store_suite(&store).await;
    store.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_exports_of_one_date_leave_one_document() {
    let Some(url) = endpoint(&MONGODB).await else {
        return;
    };
    let store = store(&url);
    let date = "2025-11-04".parse().unwrap();
    let at = Timestamp::parse("2025-11-05T06:00:00+01:00").unwrap();

    for seed in 0..5 {
        store
            .put(&StoredReport::new(sample_report(date, seed), at))
            .await
            .unwrap();
    }
    assert_eq!(
        store.count_documents_for(date).await.unwrap(),
        1,
        "sequential"
    );

    let other = "2025-11-05".parse().unwrap();
    let reports: Vec<StoredReport> = (0..5)
        .map(|seed| StoredReport::new(sample_report(other, seed), at))
        .collect();
    for r in join_all(reports.iter().map(|r| store.put(r))).await {
        r.unwrap();
    }
    assert_eq!(
        store.count_documents_for(other).await.unwrap(),
        1,
        "concurrent"
    );
    assert!(reports.contains(&store.get(other).await.unwrap()));
    store.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_have_the_seed_shape_and_exact_types() {
    let Some(url) = endpoint(&MONGODB).await else {
        return;
    };
    let config = MongoConfig::new(&url, unique_name("cityflow-test"));
    let store = MongoReportStore::new(config.clone());
    let date = "2025-11-04".parse().unwrap();
    let stored = StoredReport::new(sample_report(date, 7), Timestamp::now());
    store.put(&stored).await.unwrap();
    assert_eq!(store.get(date).await.unwrap(), stored, "full round trip");

    // Look at the raw document with the driver itself.
    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let raw: Document = client
        .database(&config.database)
        .collection::<Document>("reports")
        .find_one(doc! {"date": "2025-11-04"})
        .await
        .unwrap()
        .expect("the document");
    assert!(matches!(raw.get("_id"), Some(Bson::ObjectId(_))), "{raw:?}");
    assert_eq!(raw.get_str("report_id").unwrap(), "daily_report_2025-11-04");
    assert_eq!(raw.get_str("date").unwrap(), "2025-11-04");
    assert!(raw.get_str("timestamp").is_ok());
    let report = raw.get_document("report").unwrap();
    let summary = report.get_document("summary").unwrap();
    assert!(
        matches!(
            summary.get("total_velos_paris"),
            Some(Bson::Int32(4699) | Bson::Int64(4699))
        ),
        "counts stay integers: {summary:?}"
    );
    assert_eq!(
        summary.get("temps_perdu_total_minutes"),
        Some(&Bson::Double(247731.455309913))
    );
    let first = report.get_array("top_10_troncons_frequentes").unwrap()[0]
        .as_document()
        .unwrap()
        .clone();
    assert_eq!(
        first.get("debit_journalier_total"),
        Some(&Bson::Int64(9_007_199_254_740_991)),
        "large integers are exact"
    );
    assert_eq!(first.get("temps_perdu_minutes"), Some(&Bson::Double(1e-7)));
    store.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_creates_the_indexes_once() {
    let Some(url) = endpoint(&MONGODB).await else {
        return;
    };
    let store = store(&url);
    let first = store.ensure_indexes().await.unwrap();
    assert_eq!(first.created, vec!["date_unique", "report_id_unique"]);
    assert!(first.existing.is_empty());
    let second = store.ensure_indexes().await.unwrap();
    assert!(second.created.is_empty(), "{second:?}");
    assert_eq!(second.existing, vec!["date_unique", "report_id_unique"]);
    let actions = store.setup().await.unwrap();
    assert!(actions.iter().all(|a| !a.created), "{actions:?}");

    // The unique index on `date` really refuses a second document for a date.
    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let coll = client
        .database(&store.config().database)
        .collection::<Document>("reports");
    coll.insert_one(doc! {"report_id": "a", "date": "2031-01-01"})
        .await
        .unwrap();
    let dup = coll
        .insert_one(doc! {"report_id": "b", "date": "2031-01-01"})
        .await;
    assert!(dup.is_err(), "duplicate date accepted");
    store.drop_database().await.unwrap();
}

/// A closed port: the error comes within the bound, names the target, hides the password.
/// Runs everywhere: it needs no server.
#[tokio::test]
async fn an_unreachable_server_fails_fast_and_clearly() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // dropped: nothing listens there any more
    let url = format!("mongodb://cityflow:canary-pw-4711@127.0.0.1:{port}/?directConnection=true");
    let mut config = MongoConfig::new(&url, "cityflow");
    config.timeout = Duration::from_secs(2);
    let store = MongoReportStore::new(config);
    let started = Instant::now();
    let err = store
        .get("2025-11-04".parse().unwrap())
        .await
        .expect_err("nothing listens");
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_retryable());
    let msg = err.to_string();
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("unreachable"), "{msg}");
    assert!(!msg.contains("canary-pw-4711"), "{msg}");
    assert!(!format!("{err:?}").contains("canary-pw-4711"));
    assert!(!format!("{store:?}").contains("canary-pw-4711"));
    // The bounded-failure guarantee (a 2 s timeout must not turn into minutes).
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

/// Over 16 MB even compressed: refused before sending, with the size. Needs no server.
#[tokio::test]
async fn a_report_over_16_mb_even_compressed_is_too_large() {
    let store = MongoReportStore::new(MongoConfig::new("mongodb://127.0.0.1:9/", "cityflow"));
    let date = "2025-11-04".parse().unwrap();
    let mut report = sample_report(date, 1);
    // 30 MB of printable characters drawn at random: gzip cannot bring them under 16 MB.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    report.top_10_troncons_frequentes[0].libelle = (0..30 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state >> 32) as u8 % 94)
        })
        .collect();
    let err = store
        .put(&StoredReport::new(report, Timestamp::now()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("16777216"), "{msg}");
    assert!(msg.contains("report for 2025-11-04"), "{msg}");
    assert!(msg.contains("even gzip-compressed"), "{msg}");
}

/// Over 16 MB, compressible: stored gzip-compressed in a BinData field, read back equal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_over_16_mb_is_stored_compressed_and_read_back_equal() {
    let Some(url) = endpoint(&MONGODB).await else {
        return;
    };
    let config = MongoConfig::new(&url, unique_name("cityflow-test"));
    let store = MongoReportStore::new(config.clone());
    let date = "2025-11-04".parse().unwrap();
    let mut report = sample_report(date, 3);
    report.top_10_troncons_frequentes[0].libelle = "Quai des Célestins ".repeat(1_000_000);
    let stored = StoredReport::new(report, Timestamp::now());
    store.put(&stored).await.unwrap();
    assert!(store.get(date).await.unwrap() == stored, "read back equal");
    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let raw: Document = client
        .database(&config.database)
        .collection::<Document>("reports")
        .find_one(doc! {"date": "2025-11-04"})
        .await
        .unwrap()
        .expect("the document");
    assert!(raw.get("report").is_none(), "no plain report beside it");
    assert!(
        matches!(raw.get("report_gz"), Some(Bson::Binary(_))),
        "BinData"
    );
    assert_eq!(raw.get_str("report_id").unwrap(), "daily_report_2025-11-04");
    // Replaced by a small one: plain again, one document.
    let small = StoredReport::new(sample_report(date, 4), Timestamp::now());
    store.put(&small).await.unwrap();
    assert_eq!(store.get(date).await.unwrap(), small);
    assert_eq!(store.count_documents_for(date).await.unwrap(), 1);
    store.drop_database().await.unwrap();
}

/// Documents stored before summaries were (no `summary` field): listed from their reports
/// until setup adds their summaries, which it does once, leaving newer documents alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_adds_the_summaries_of_documents_stored_before_them() {
    use cityflow_core::{DateRange, ReportSummary, SummaryQuery};
    let Some(url) = endpoint(&MONGODB).await else {
        return;
    };
    let store = store(&url);
    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let coll = client
        .database(&store.config().database)
        .collection::<Document>("reports");
    let mut written = Vec::new();
    for (i, day) in ["2024-02-28", "2024-02-29", "2024-03-01"]
        .iter()
        .enumerate()
    {
        let report = StoredReport::new(
            sample_report(day.parse().unwrap(), i as u32),
            Timestamp::now(),
        );
        store.put(&report).await.unwrap();
        let raw = coll.find_one(doc! {"date": *day}).await.unwrap().unwrap();
        assert_eq!(
            raw.get_document("summary")
                .unwrap()
                .get_str("date")
                .unwrap(),
            *day,
            "the summary is written with the report"
        );
        written.push(report);
    }
    coll.update_many(doc! {}, doc! {"$unset": {"summary": ""}})
        .await
        .unwrap();
    let expected: Vec<ReportSummary> = written.iter().map(ReportSummary::of).collect();
    let query = SummaryQuery::oldest_first(DateRange::ALL, 10);
    assert_eq!(
        store.summaries(query).await.unwrap(),
        expected,
        "read from the reports meanwhile"
    );
    let progress = std::sync::Arc::new(cityflow_core::conformance::RecordedProgress::default());
    let actions = store.setup_with_progress(progress.clone()).await.unwrap();
    progress.assert_one_step("adding summaries", 3);
    let summaries = actions
        .iter()
        .find(|a| a.resource.contains("summaries"))
        .unwrap();
    assert!(
        summaries.created && summaries.resource.contains("3 added"),
        "{actions:?}"
    );
    assert_eq!(
        coll.count_documents(doc! {"summary": {"$exists": true}})
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.summaries(query).await.unwrap(), expected);
    let again = store.setup().await.unwrap();
    assert!(again.iter().all(|a| !a.created), "idempotent: {again:?}");
    store.drop_database().await.unwrap();
}
