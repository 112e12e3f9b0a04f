//! The AWS backend against real emulators: S3 on LocalStack (`S3_TEST_ENDPOINT_URL`) and
//! DynamoDB on DynamoDB Local (`DYNAMODB_TEST_ENDPOINT_URL`), both started by
//! scripts/services; or, when a variable is unset, a container of `CITYFLOW_TEST_S3_IMAGE` /
//! `CITYFLOW_TEST_DYNAMODB_IMAGE` (default `localstack/localstack:4.14`,
//! `amazon/dynamodb-local:3.3.0`) started for this test binary (`cityflow_core::test_servers`).
//! Each test uses a bucket or table of its own.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use cityflow_core::conformance::{blob_sink_suite, report_store_suite, sample_report, unique_name};
use cityflow_core::test_servers::{endpoint, DYNAMODB, S3};
use cityflow_core::{
    BlobKey, BlobSink, DateRange, ErrorKind, ReportStore, Roadwork, StoredReport, Timestamp,
    CSV_CONTENT_TYPE,
};
use cityflow_storage_aws::{AwsConfig, DynamoReportStore, S3BlobSink, StaticCredentials};
use futures_util::stream::{self, StreamExt, TryStreamExt};

fn credentials() -> Option<StaticCredentials> {
    // Emulators accept any signature; these tests never rely on them to check credentials.
    Some(StaticCredentials {
        access_key_id: "test".into(),
        secret_access_key: "test-secret".into(),
        session_token: None,
    })
}

fn s3_config(endpoint: &str) -> AwsConfig {
    let mut c = AwsConfig::new(cityflow_core::AwsSettings::new("us-east-1"));
    c.endpoint_url_s3 = Some(endpoint.to_string());
    c.credentials = credentials();
    c.s3_bucket = unique_name("cityflow");
    c
}

fn dynamodb_config(endpoint: &str) -> AwsConfig {
    let mut c = AwsConfig::new(cityflow_core::AwsSettings::new("us-east-1"));
    c.endpoint_url_dynamodb = Some(endpoint.to_string());
    c.credentials = credentials();
    c.dynamodb_table = unique_name("cityflow-reports");
    c
}

async fn raw_dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

async fn raw_s3(endpoint: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

// ---------------------------------------------------------------- S3

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_blob_sink_conforms() {
    let Some(endpoint) = endpoint(&S3).await else {
        return;
    };
    let sink = S3BlobSink::new(s3_config(&endpoint));
    sink.setup().await.unwrap();
    blob_sink_suite(&sink).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_objects_have_the_seed_key_location_and_content_type() {
    let Some(endpoint) = endpoint(&S3).await else {
        return;
    };
    let config = s3_config(&endpoint);
    let sink = S3BlobSink::new(config.clone());
    sink.setup().await.unwrap();
    let key = BlobKey::report_csv(date("2025-11-04"));
    let location = sink
        .put(
            &key,
            Bytes::from_static(b"Section;Valeur\n"),
            CSV_CONTENT_TYPE,
        )
        .await
        .unwrap();
    assert_eq!(
        location,
        format!(
            "s3://{}/reports/daily_report_2025-11-04.csv",
            config.s3_bucket
        )
    );
    let head = raw_s3(&endpoint)
        .await
        .head_object()
        .bucket(&config.s3_bucket)
        .key("reports/daily_report_2025-11-04.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/csv; charset=utf-8"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_list_reads_every_page() {
    let Some(endpoint) = endpoint(&S3).await else {
        return;
    };
    let sink = S3BlobSink::new(s3_config(&endpoint));
    sink.setup().await.unwrap();
    // More than one page of 1000 keys.
    let keys: Vec<BlobKey> = (0..1010)
        .map(|i| BlobKey::new(format!("many/{i:05}.csv")).unwrap())
        .collect();
    stream::iter(keys.iter())
        .map(|k| sink.put(k, Bytes::from_static(b"x"), CSV_CONTENT_TYPE))
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let listed = sink.list("many/").await.unwrap();
    assert_eq!(listed.len(), 1010);
    assert_eq!(listed, keys, "sorted, every page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_setup_twice_creates_nothing_the_second_time() {
    let Some(endpoint) = endpoint(&S3).await else {
        return;
    };
    let sink = S3BlobSink::new(s3_config(&endpoint));
    let first = sink.setup().await.unwrap();
    assert!(first.iter().all(|a| a.created), "{first:?}");
    let second = sink.setup().await.unwrap();
    assert!(second.iter().all(|a| !a.created), "{second:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_missing_bucket_is_a_clear_error() {
    let Some(endpoint) = endpoint(&S3).await else {
        return;
    };
    let config = s3_config(&endpoint);
    let sink = S3BlobSink::new(config.clone());
    let err = sink
        .put(
            &BlobKey::report_csv(date("2025-11-04")),
            Bytes::from_static(b"x"),
            CSV_CONTENT_TYPE,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&config.s3_bucket), "{msg}");
    assert!(msg.contains("cityflow setup"), "{msg}");
    assert!(msg.contains("S3_REPORTS_BUCKET"), "{msg}");
}

// ---------------------------------------------------------------- DynamoDB

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_report_store_conforms() {
    let Some(endpoint) = endpoint(&DYNAMODB).await else {
        return;
    };
    let store = DynamoReportStore::new(dynamodb_config(&endpoint));
    store.setup().await.unwrap();
    report_store_suite(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_items_have_the_seed_shape_exact_numbers_and_ttl() {
    let Some(endpoint) = endpoint(&DYNAMODB).await else {
        return;
    };
    let config = dynamodb_config(&endpoint);
    let store = DynamoReportStore::new(config.clone());
    store.setup().await.unwrap();
    let d = date("2025-11-04");
    // A recent export time: the TTL derived from an old one would already have passed and
    // DynamoDB (Local too) deletes expired items on its own.
    let exported = Timestamp::now();
    let stored = StoredReport::new(sample_report(d, 3), exported);
    let location = store.put(&stored).await.unwrap();
    assert_eq!(
        location,
        format!(
            "dynamodb://{}/daily_report_2025-11-04",
            config.dynamodb_table
        )
    );
    assert_eq!(store.get(d).await.unwrap(), stored, "full round trip");

    let item = raw_dynamodb(&endpoint)
        .await
        .get_item()
        .table_name(&config.dynamodb_table)
        .key(
            "report_id",
            AttributeValue::S("daily_report_2025-11-04".into()),
        )
        .key("date", AttributeValue::S("2025-11-04".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the item");
    let ttl: i64 = item["ttl"].as_n().unwrap().parse().unwrap();
    assert_eq!(ttl, exported.unix_seconds() + 365 * 86_400);
    assert!(item["timestamp"].as_s().is_ok());
    let report = item["report"].as_m().expect("a map, not compressed");
    let summary = report["summary"].as_m().unwrap();
    assert_eq!(summary["total_velos_paris"].as_n().unwrap(), "4699");
    assert_eq!(
        summary["temps_perdu_total_minutes"].as_n().unwrap(),
        "247731.455309913"
    );
    let first = report["top_10_troncons_frequentes"].as_l().unwrap()[0]
        .as_m()
        .unwrap()
        .clone();
    assert_eq!(
        first["debit_journalier_total"].as_n().unwrap(),
        "9007199254740991"
    );
    assert_eq!(
        first["temps_perdu_total_minutes"].as_n().unwrap(),
        "21880.515012897125"
    );
    let n: f64 = first["temps_perdu_minutes"]
        .as_n()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n, 1e-7);
    assert_eq!(
        first["taux_occupation_moyen"].as_n().unwrap(),
        "0.1",
        "no float hacks"
    );
}

/// Filler that gzip cannot shrink much: pseudo-random hex.
fn noise(bytes: usize, seed: u64) -> String {
    // Distinct odd seeds, spread over the 64 bits (xorshift needs a non-zero state).
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_digit((x % 16) as u32, 16).unwrap()
        })
        .collect()
}

fn report_with_chantiers(d: chrono::NaiveDate, count: usize, noise_bytes: usize) -> StoredReport {
    let mut report = sample_report(d, 1);
    report.chantiers_actifs = (0..count)
        .map(|i| Roadwork {
            identifiant: format!("CP{i:06}"),
            typologie: "2".into(),
            impact: noise(noise_bytes, i as u64 + 1),
            arrondissement: Some("75012".into()),
        })
        .collect();
    StoredReport::new(report, Timestamp::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_600_kb_report_is_stored_compressed_and_read_back_equal() {
    let Some(endpoint) = endpoint(&DYNAMODB).await else {
        return;
    };
    let config = dynamodb_config(&endpoint);
    let store = DynamoReportStore::new(config.clone());
    store.setup().await.unwrap();
    let d = date("2025-11-04");
    // About 600 KB of JSON; half of each filler is repeated so it compresses.
    let mut stored = report_with_chantiers(d, 3000, 100);
    for (i, c) in stored.report.chantiers_actifs.iter_mut().enumerate() {
        c.impact = format!("{}{}", &c.impact[..40], "BARRAGE_TOTAL ".repeat(4 + i % 3));
    }
    let json_len = serde_json::to_vec(&stored.report).unwrap().len();
    assert!(json_len > 550_000, "{json_len}");
    store.put(&stored).await.unwrap();
    assert_eq!(store.get(d).await.unwrap(), stored);

    let item = raw_dynamodb(&endpoint)
        .await
        .get_item()
        .table_name(&config.dynamodb_table)
        .key(
            "report_id",
            AttributeValue::S("daily_report_2025-11-04".into()),
        )
        .key("date", AttributeValue::S("2025-11-04".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(item.contains_key("report_gz") && !item.contains_key("report"));

    // Saving a small report again switches back to the plain map: still one item.
    let small = StoredReport::new(sample_report(d, 2), Timestamp::now());
    store.put(&small).await.unwrap();
    assert_eq!(store.get(d).await.unwrap(), small);
    assert_eq!(store.list(DateRange::ALL).await.unwrap(), vec![d]);
}

/// Needs no server: the size is known before sending.
#[tokio::test]
async fn a_report_too_large_even_compressed_is_too_large() {
    let store = DynamoReportStore::new(dynamodb_config("http://127.0.0.1:9"));
    let stored = report_with_chantiers(date("2025-11-04"), 100, 12_000);
    let err = store.put(&stored).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("409600"), "{msg}");
    assert!(msg.contains("report for 2025-11-04"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_list_reads_every_page() {
    let Some(endpoint) = endpoint(&DYNAMODB).await else {
        return;
    };
    let store = DynamoReportStore::new(dynamodb_config(&endpoint));
    store.setup().await.unwrap();
    // 40 items of ~60 KB: a scan page holds at most 1 MB.
    let start = date("2030-01-01");
    let dates: Vec<_> = (0..40).map(|i| start + chrono::Days::new(i)).collect();
    stream::iter(dates.iter())
        .map(|d| {
            let mut r = report_with_chantiers(*d, 6, 10_000);
            r.report.chantiers_actifs.truncate(6);
            let store = &store;
            async move { store.put(&r).await }
        })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(store.list(DateRange::ALL).await.unwrap(), dates);
    let range = DateRange::new(Some(date("2030-01-10")), Some(date("2030-01-19"))).unwrap();
    assert_eq!(store.list(range).await.unwrap(), dates[9..19].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_setup_twice_creates_nothing_the_second_time() {
    let Some(endpoint) = endpoint(&DYNAMODB).await else {
        return;
    };
    let store = DynamoReportStore::new(dynamodb_config(&endpoint));
    let first = store.setup().await.unwrap();
    let created: Vec<bool> = first.iter().map(|a| a.created).collect();
    // Table, summary index, summaries to add (none in a new table), TTL.
    assert_eq!(created, [true, true, false, true], "{first:?}");
    assert!(first[1].resource.contains("reports_by_date"), "{first:?}");
    let second = store.setup().await.unwrap();
    assert!(second.iter().all(|a| !a.created), "{second:?}");
}

/// Items written before summaries were (no summary, no index key): setup adds them, and
/// listing then finds every report, by a Query of the index. (Adding the index itself to a
/// table made without it, `UpdateTable`, is not exercised here: DynamoDB Local leaves an
/// index added that way CREATING for good once it has served other tables.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_setup_adds_the_summaries_of_items_written_before_them() {
    let Some(endpoint) = endpoint(&DYNAMODB).await else {
        return;
    };
    let config = dynamodb_config(&endpoint);
    let raw = raw_dynamodb(&endpoint).await;
    DynamoReportStore::new(config.clone())
        .setup()
        .await
        .unwrap();
    let store = DynamoReportStore::new(config.clone());
    let dates = [date("2024-02-28"), date("2024-02-29"), date("2024-03-01")];
    let mut written = Vec::new();
    for (i, d) in dates.iter().enumerate() {
        let report = StoredReport::new(sample_report(*d, i as u32), Timestamp::now());
        store.put(&report).await.unwrap();
        // As an earlier version wrote it: no summary, no index key.
        raw.update_item()
            .table_name(&config.dynamodb_table)
            .key("report_id", AttributeValue::S(report.report_id.clone()))
            .key("date", AttributeValue::S(d.to_string()))
            .update_expression("REMOVE listing, summary")
            .send()
            .await
            .unwrap();
        written.push(report);
    }
    assert_eq!(
        store.list(DateRange::ALL).await.unwrap(),
        Vec::<chrono::NaiveDate>::new(),
        "before: not in the index"
    );
    let progress = std::sync::Arc::new(cityflow_core::conformance::RecordedProgress::default());
    let actions = store.setup_with_progress(progress.clone()).await.unwrap();
    progress.assert_one_step("adding summaries", 3);
    let by_resource = |needle: &str| {
        actions
            .iter()
            .find(|a| a.resource.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in {actions:?}"))
            .clone()
    };
    assert!(!by_resource("table").created, "{actions:?}");
    assert!(!by_resource("reports_by_date").created, "{actions:?}");
    let summaries = by_resource("summaries");
    assert!(
        summaries.created && summaries.resource.contains("3 added"),
        "{actions:?}"
    );
    let listed = store
        .summaries(cityflow_core::SummaryQuery::oldest_first(
            DateRange::ALL,
            10,
        ))
        .await
        .unwrap();
    let expected: Vec<cityflow_core::ReportSummary> = written
        .iter()
        .map(cityflow_core::ReportSummary::of)
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(store.list(DateRange::ALL).await.unwrap(), dates.to_vec());
    let again = store.setup().await.unwrap();
    assert!(again.iter().all(|a| !a.created), "idempotent: {again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_missing_table_is_a_clear_error() {
    let Some(endpoint) = endpoint(&DYNAMODB).await else {
        return;
    };
    let config = dynamodb_config(&endpoint);
    let store = DynamoReportStore::new(config.clone());
    let err = store.get(date("2025-11-04")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&config.dynamodb_table), "{msg}");
    assert!(msg.contains("cityflow setup"), "{msg}");
    assert!(msg.contains("DYNAMODB_REPORTS_TABLE"), "{msg}");
}

// ---------------------------------------------------------------- unreachable endpoints

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Needs no server: a closed port on loopback.
#[tokio::test]
async fn stopped_endpoints_fail_within_15_s_naming_the_service() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let mut s3 = s3_config(&endpoint);
    s3.credentials = Some(StaticCredentials {
        access_key_id: "AKIDCANARY".into(),
        secret_access_key: "canary-secret-9931".into(),
        session_token: Some("canary-token-1177".into()),
    });
    let mut dynamodb = dynamodb_config(&endpoint);
    dynamodb.credentials = s3.credentials.clone();

    let started = Instant::now();
    let err = S3BlobSink::new(s3)
        .get(&BlobKey::report_csv(date("2025-11-04")))
        .await
        .unwrap_err();
    let s3_elapsed = started.elapsed();
    let started = Instant::now();
    let derr = DynamoReportStore::new(dynamodb)
        .get(date("2025-11-04"))
        .await
        .unwrap_err();
    let dynamodb_elapsed = started.elapsed();

    for (err, service, elapsed) in [
        (&err, "S3", s3_elapsed),
        (&derr, "DynamoDB", dynamodb_elapsed),
    ] {
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        let msg = err.to_string();
        assert!(msg.contains(service), "{msg}");
        assert!(msg.contains(&endpoint), "{msg}");
        for secret in ["canary-secret-9931", "canary-token-1177"] {
            assert!(!msg.contains(secret), "{msg}");
            assert!(!format!("{err:?}").contains(secret));
        }
        // The bounded-failure guarantee.
        assert!(
            elapsed < Duration::from_secs(15),
            "{service} took {elapsed:?}"
        );
    }
}
