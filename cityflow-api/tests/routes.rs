//! Every route and status of the API, against the file store, MongoDB and DynamoDB (the
//! servers of the harness: `MONGODB_TEST_URL`, `DYNAMODB_TEST_ENDPOINT_URL`, else containers).
//! The same checks run against each store.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use cityflow_api::{router, ApiConfig};
use cityflow_core::test_servers::{endpoint, DYNAMODB, MONGODB};
use cityflow_core::{render_csv, ReportStore};
use common::*;

/// The checks every store must pass.
async fn exercise(store: Arc<dyn ReportStore>) {
    let api = router(store.clone(), ApiConfig::default());

    // Health, readiness, and an empty store.
    let health = get(&api, "/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(get(&api, "/ready").await.status, 200);
    get(&api, "/reports/latest").await.problem(404);
    let empty = get(&api, "/reports").await;
    assert_eq!(empty.json()["count"], 0);

    let reports = fixture_reports();
    store_all(&store, &reports).await;
    let newest = reports.last().unwrap();

    // One report, as JSON: exactly the envelope, nothing about where inputs were.
    let json = get(&api, "/reports/2026-03-10").await;
    assert_eq!(json.status, 200, "{}", json.text());
    assert_eq!(json.header("content-type"), "application/json");
    let envelope = json.json();
    let mut keys: Vec<&str> = envelope
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["date", "report", "report_id", "timestamp"]);
    assert_eq!(envelope["report_id"], "daily_report_2026-03-10");
    assert_eq!(envelope["timestamp"], newest.timestamp.to_string());
    assert_eq!(
        envelope["report"],
        serde_json::to_value(&newest.report).unwrap()
    );
    let etag = json.header("etag").to_string();
    assert!(
        etag.starts_with('"') && etag.len() == 34,
        "strong tag: {etag}"
    );
    assert_eq!(
        json.header("last-modified"),
        "Wed, 11 Mar 2026 05:00:00 GMT"
    );
    assert_eq!(json.header("cache-control"), "public, max-age=3600");
    assert!(json.header("vary").contains("Accept"));

    // The CSV: by Accept and by suffix, byte-identical to what the exporter writes.
    let expected_csv = render_csv(&newest.report);
    let by_accept = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("accept", "text/csv")],
    )
    .await;
    assert_eq!(by_accept.status, 200);
    assert_eq!(by_accept.header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(by_accept.text(), expected_csv);
    assert_ne!(
        by_accept.header("etag"),
        etag,
        "each representation has its own tag"
    );
    let by_suffix = get(&api, "/reports/2026-03-10.csv").await;
    assert_eq!(by_suffix.text(), expected_csv);
    assert_eq!(
        by_suffix.header("content-disposition"),
        "attachment; filename=\"daily_report_2026-03-10.csv\""
    );
    let browser = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )],
    )
    .await;
    assert_eq!(browser.header("content-type"), "text/html; charset=utf-8");

    // Conditional requests.
    let again = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    let list_of_tags = format!("\"nope\", {etag}");
    assert_eq!(
        call(
            &api,
            Method::GET,
            "/reports/2026-03-10",
            &[("if-none-match", &list_of_tags)]
        )
        .await
        .status,
        304
    );
    assert_eq!(
        call(
            &api,
            Method::GET,
            "/reports/2026-03-10",
            &[("if-none-match", "\"stale\"")]
        )
        .await
        .status,
        200
    );
    let since = json.header("last-modified").to_string();
    assert_eq!(
        call(
            &api,
            Method::GET,
            "/reports/2026-03-10",
            &[("if-modified-since", &since)]
        )
        .await
        .status,
        304
    );
    assert_eq!(
        call(
            &api,
            Method::GET,
            "/reports/2026-03-10",
            &[("if-modified-since", "Tue, 10 Mar 2026 05:00:00 GMT")]
        )
        .await
        .status,
        200
    );

    // Compressed: another strong tag, and revalidation with it.
    let gz = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    let gz_tag = gz.header("etag").to_string();
    assert_eq!(gz_tag, format!("{}-gzip\"", etag.trim_end_matches('"')));
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut plain)
        .unwrap();
    assert_eq!(plain, json.body);
    let gz304 = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("accept-encoding", "gzip"), ("if-none-match", &gz_tag)],
    )
    .await;
    assert_eq!(gz304.status, 304);
    assert_eq!(gz304.header("etag"), gz_tag);

    // HEAD: the GET's headers, no body.
    let head = call(&api, Method::HEAD, "/reports/2026-03-10", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), etag);
    assert_eq!(head.header("content-type"), "application/json");
    for path in [
        "/",
        "/health",
        "/ready",
        "/reports",
        "/reports/latest",
        "/stats",
        "/openapi.json",
        "/reports/2026-03-10.csv",
    ] {
        let head = call(&api, Method::HEAD, path, &[]).await;
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path}");
    }

    // Other methods, Accept, bad dates, unknown things.
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let answer = call(&api, method.clone(), "/reports/2026-03-10", &[]).await;
        answer.problem(405);
        let allow = answer.header("allow");
        assert!(
            allow.contains("GET") && allow.contains("HEAD"),
            "{method}: {allow}"
        );
    }
    call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("accept", "image/png")],
    )
    .await
    .problem(406);
    call(
        &api,
        Method::GET,
        "/reports/2026-03-10.csv",
        &[("accept", "application/json")],
    )
    .await
    .problem(406);
    call(&api, Method::GET, "/stats", &[("accept", "text/csv")])
        .await
        .problem(406);
    let missing = get(&api, "/reports/2026-03-11").await.problem(404);
    assert!(missing["detail"].as_str().unwrap().contains("2026-03-11"));
    for bad in [
        "/reports/2026-13-01",
        "/reports/2026-3-1",
        "/reports/tomorrow",
        "/reports/2026-03-10.xml",
    ] {
        get(&api, bad).await.problem(400);
    }
    get(&api, "/nowhere").await.problem(404);

    // Lists and ranges.
    let all = get(&api, "/reports").await.json();
    assert_eq!(all["count"], 8);
    let dates: Vec<&str> = all["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates.first(), Some(&"2026-03-03"));
    assert_eq!(dates.last(), Some(&"2026-03-10"));
    assert_eq!(
        all["reports"][7]["summary"]["total_vehicules_paris"],
        1_070_000
    );
    assert_eq!(all["reports"][7]["links"]["csv"], "/reports/2026-03-10.csv");
    let some = get(&api, "/reports?from=2026-03-05&to=2026-03-07")
        .await
        .json();
    assert_eq!(some["count"], 3);
    assert_eq!(some["from"], "2026-03-05");
    assert_eq!(some["next"], serde_json::Value::Null, "one page");
    assert!(!get(&api, "/reports?from=2026-03-05&to=2026-03-07")
        .await
        .headers
        .contains_key("link"));
    // A long range is paged, not refused.
    assert_eq!(
        get(&api, "/reports?from=2016-01-01&to=2026-03-05")
            .await
            .json()["count"],
        3
    );

    // Pages of three: every report once, in order, by the `Link` of each page.
    let mut url = "/reports?limit=3".to_string();
    let mut paged = Vec::new();
    let mut pages = 0;
    loop {
        let answer = get(&api, &url).await;
        let link = answer
            .headers
            .get("link")
            .map(|l| l.to_str().unwrap().to_string());
        let page = answer.json();
        assert_eq!(page["limit"], 3);
        for r in page["reports"].as_array().unwrap() {
            paged.push(r["date"].as_str().unwrap().to_string());
        }
        pages += 1;
        match link {
            Some(link) => {
                let target = link
                    .strip_prefix('<')
                    .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                    .unwrap_or_else(|| panic!("a Link header: {link}"));
                assert!(
                    target.ends_with(page["next"].as_str().unwrap()),
                    "{target} carries the cursor"
                );
                url = target.to_string();
            }
            None => {
                assert_eq!(page["next"], serde_json::Value::Null);
                break;
            }
        }
        assert!(pages <= 4, "paging ends");
    }
    assert_eq!(
        paged, dates,
        "every report once, in order, over {pages} pages"
    );
    for bad in [
        "/reports?from=2026-03-07&to=2026-03-05",
        "/reports?limit=0",
        "/reports?limit=1001",
        "/reports?cursor=2026-03-05",
        "/stats?from=2015-01-01&to=2026-03-05",
        "/reports?from=2026-02-30",
        "/reports?to=x",
        "/reports?from=2026-03-01&from=2026-03-02",
        "/stats?from=0001-01-01&to=9999-12-31",
    ] {
        get(&api, bad).await.problem(400);
    }

    // Statistics over the eight days.
    let stats = get(&api, "/stats").await.json();
    assert_eq!(stats["count"], 8);
    let vehicles = &stats["total_vehicules_paris"];
    assert_eq!(vehicles["series"].as_array().unwrap().len(), 8);
    assert_eq!(vehicles["min"], 1_000_000.0);
    assert_eq!(vehicles["max"], 1_070_000.0);
    assert_eq!(vehicles["mean"], 1_035_000.0);
    let availability = &stats["taux_disponibilite_capteurs"];
    assert_eq!(availability["series"][2]["value"], serde_json::Value::Null);
    // Known values 90, 91, 93, …, 97: seven of them.
    assert_eq!(
        availability["mean"],
        (90.0 + 91.0 + 93.0 + 94.0 + 95.0 + 96.0 + 97.0) / 7.0
    );
    assert_eq!(availability["min"], 90.0);
    assert_eq!(
        get(&api, "/stats?from=2026-03-09&to=2026-03-10")
            .await
            .json()["count"],
        2
    );

    // The latest report, and the old tool's paths.
    let latest = get(&api, "/reports/latest").await;
    assert_eq!(latest.status, 200);
    assert_eq!(latest.body, json.body);
    assert_eq!(latest.header("content-location"), "/reports/2026-03-10");
    assert_eq!(latest.header("cache-control"), "public, no-cache");
    assert_eq!(get(&api, "/report/2026-03-10").await.body, json.body);
    assert_eq!(get(&api, "/api/report/2026-03-10").await.body, json.body);
    assert_eq!(get(&api, "/api/health").await.json()["status"], "ok");
    assert_eq!(
        get(&api, "/api/stats").await.body,
        get(&api, "/stats").await.body
    );

    // Pages.
    let dashboard = get(&api, "/").await;
    assert_eq!(dashboard.header("content-type"), "text/html; charset=utf-8");
    let html = dashboard.text();
    assert!(html.contains("<html lang=\"fr\">"));
    assert_eq!(html.matches("role=\"img\"").count(), 5, "five trend charts");
    assert!(html.contains("href=\"/reports/2026-03-03.html\""));
    let page = get(&api, "/reports/2026-03-09.html").await.text();
    assert!(!page.contains("<script"), "markup from data is escaped");
    assert!(page
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Quai &amp; &quot;Pont&quot;"));
    assert!(page.contains("id=\"top-troncons\"") && page.contains("id=\"top-zones\""));

    // A report exported while serving is served on the next request, and so are the
    // statistics and list pages computed from its summary (read once before, so that a
    // store with a summaries token has them cached).
    let stats_url = "/stats?from=2026-03-03&to=2026-03-10";
    let list_url = "/reports?from=2026-03-09&limit=5";
    let total_on_the_10th = |stats: &serde_json::Value| {
        stats["total_vehicules_paris"]["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["date"] == "2026-03-10")
            .map(|p| p["value"].clone())
    };
    let stats_before = get(&api, stats_url).await;
    assert_eq!(
        get(&api, stats_url).await.body,
        stats_before.body,
        "the same answer without writes"
    );
    assert_ne!(total_on_the_10th(&stats_before.json()), Some(42.0.into()));
    let list_before = get(&api, list_url).await;
    assert_eq!(list_before.json()["count"], 2);
    let mut changed = newest.clone();
    changed.report.summary.total_vehicules_paris = 42;
    changed.timestamp = cityflow_core::Timestamp::parse("2026-03-12T06:00:00+00:00").unwrap();
    store.put(&changed).await.unwrap();
    let fresh = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(fresh.status, 200);
    assert_eq!(
        fresh.json()["report"]["summary"]["total_vehicules_paris"],
        42
    );
    assert_eq!(
        fresh.header("last-modified"),
        "Thu, 12 Mar 2026 06:00:00 GMT"
    );
    let stats_after = get(&api, stats_url).await;
    assert_ne!(stats_after.header("etag"), stats_before.header("etag"));
    assert_eq!(total_on_the_10th(&stats_after.json()), Some(42.0.into()));
    let list_after = get(&api, list_url).await.json();
    assert_eq!(list_after["reports"][1]["date"], "2026-03-10");
    assert_eq!(
        list_after["reports"][1]["summary"]["total_vehicules_paris"],
        42
    );
    // A report removed leaves both on the next request.
    store.delete(changed.date).await.unwrap();
    assert_eq!(total_on_the_10th(&get(&api, stats_url).await.json()), None);
    assert_eq!(get(&api, list_url).await.json()["count"], 1);
}

/// A page longer than one store call (the API reads the store by calls of at most
/// `SUMMARIES_PER_CALL` summaries): every report of the range once, in order, on the page
/// and through its cursor; `/stats` over more than one call likewise.
#[tokio::test]
async fn pages_longer_than_one_store_call() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ReportStore> = Arc::new(cityflow_storage_fs::FsReportStore::new(dir.path()));
    let base = example_report();
    let first = d("2024-01-01");
    let count = 2 * cityflow_api::SUMMARIES_PER_CALL + 101;
    let reports: Vec<_> = (0..count as u64)
        .map(|i| {
            let mut report = base.clone();
            report.date = first + chrono::Days::new(i);
            report.summary.total_vehicules_paris = i;
            cityflow_core::StoredReport::new(report, cityflow_core::Timestamp::now())
        })
        .collect();
    store_all(&store, &reports).await;
    let api = router(store, ApiConfig::default());
    let dates = |page: &serde_json::Value| -> Vec<String> {
        page["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["date"].as_str().unwrap().to_string())
            .collect()
    };
    let expected: Vec<String> = reports.iter().map(|r| r.date.to_string()).collect();

    let whole = get(&api, "/reports?limit=1000").await.json();
    assert_eq!(whole["count"], count);
    assert_eq!(dates(&whole), expected);
    assert_eq!(whole["next"], serde_json::Value::Null);

    let limit = cityflow_api::SUMMARIES_PER_CALL + 50;
    let page = get(&api, &format!("/reports?limit={limit}")).await.json();
    assert_eq!(dates(&page), expected[..limit]);
    let cursor = page["next"].as_str().unwrap();
    let rest = get(&api, &format!("/reports?limit={limit}&cursor={cursor}"))
        .await
        .json();
    assert_eq!(dates(&rest), expected[limit..2 * limit]);

    let last = reports.last().unwrap().date;
    let stats = get(&api, &format!("/stats?from={first}&to={last}"))
        .await
        .json();
    assert_eq!(stats["count"], count);
    let series: Vec<f64> = stats["total_vehicules_paris"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(series, (0..count).map(|i| i as f64).collect::<Vec<_>>());
}

#[tokio::test]
async fn every_route_against_the_file_store() {
    let dir = tempfile::tempdir().unwrap();
    exercise(Arc::new(cityflow_storage_fs::FsReportStore::new(
        dir.path(),
    )))
    .await;
}

#[tokio::test]
async fn every_route_against_mongodb() {
    let Some(url) = endpoint(&MONGODB).await else {
        return;
    };
    let config = cityflow_storage_mongo::MongoConfig::new(url, unique_name("cityflow-api"));
    let store: Arc<dyn ReportStore> =
        Arc::new(cityflow_storage_mongo::MongoReportStore::new(config));
    exercise(store).await;
}

#[tokio::test]
async fn every_route_against_dynamodb() {
    let Some(url) = endpoint(&DYNAMODB).await else {
        return;
    };
    let mut config =
        cityflow_storage_aws::AwsConfig::new(cityflow_core::AwsSettings::new("us-east-1"));
    config.endpoint_url_dynamodb = Some(url);
    config.credentials = Some(cityflow_core::StaticCredentials {
        access_key_id: "test".into(),
        secret_access_key: "test-secret".into(),
        session_token: None,
    });
    config.dynamodb_table = unique_name("cityflow-api");
    let store: Arc<dyn ReportStore> =
        Arc::new(cityflow_storage_aws::DynamoReportStore::new(config));
    store.setup().await.unwrap();
    exercise(store).await;
}

#[tokio::test]
async fn an_unreachable_store_is_503_without_internals() {
    // A MongoDB that refuses connections; its address must not reach the client.
    let mut config = cityflow_storage_mongo::MongoConfig::new("mongodb://127.0.0.1:9/", "cityflow");
    config.timeout = Duration::from_millis(300);
    let store: Arc<dyn ReportStore> =
        Arc::new(cityflow_storage_mongo::MongoReportStore::new(config));
    let api = router(
        store,
        ApiConfig {
            store_timeout: Duration::from_secs(2),
            ..ApiConfig::default()
        },
    );
    assert_eq!(
        get(&api, "/health").await.status,
        200,
        "the process is up all the same"
    );
    for path in [
        "/ready",
        "/reports/2026-03-10",
        "/reports",
        "/stats",
        "/reports/latest",
        "/",
    ] {
        let answer = get(&api, path).await;
        let problem = answer.problem(503);
        let text = problem.to_string();
        assert!(
            !text.contains("127.0.0.1") && !text.contains("mongodb") && !text.contains(":9"),
            "{path}: {text}"
        );
    }
}

#[tokio::test]
async fn the_token_guards_everything_but_the_probes() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ReportStore> = Arc::new(cityflow_storage_fs::FsReportStore::new(dir.path()));
    store_all(&store, &fixture_reports()).await;
    let env = [("CITYFLOW_API_TOKEN".to_string(), "t0ken-value".to_string())].into();
    let api = router(store, ApiConfig::from_env(&env).unwrap());
    for path in ["/health", "/ready", "/api/health"] {
        assert_eq!(get(&api, path).await.status, 200, "{path}");
    }
    for path in [
        "/",
        "/reports",
        "/reports/2026-03-10",
        "/reports/2026-03-10.csv",
        "/stats",
        "/openapi.json",
        "/report/2026-03-10",
        "/nowhere",
    ] {
        let missing = get(&api, path).await;
        missing.problem(401);
        assert!(
            missing.header("www-authenticate").starts_with("Bearer"),
            "{path}"
        );
        call(
            &api,
            Method::GET,
            path,
            &[("authorization", "Bearer wrong")],
        )
        .await
        .problem(401);
        call(
            &api,
            Method::GET,
            path,
            &[("authorization", "Basic dDBrZW4tdmFsdWU=")],
        )
        .await
        .problem(401);
        call(
            &api,
            Method::GET,
            path,
            &[("authorization", "Bearer t0ken-value-and-more")],
        )
        .await
        .problem(401);
    }
    let ok = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("authorization", "Bearer t0ken-value")],
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("cache-control"),
        "private, max-age=3600",
        "answers behind a token are private"
    );
    let ok = call(
        &api,
        Method::GET,
        "/reports",
        &[("authorization", "bearer t0ken-value")],
    )
    .await;
    assert_eq!(ok.status, 200, "the scheme is case-insensitive");
}

#[tokio::test]
async fn cors_only_for_the_configured_origins() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ReportStore> = Arc::new(cityflow_storage_fs::FsReportStore::new(dir.path()));
    store_all(&store, &fixture_reports()).await;

    let open = router(store.clone(), ApiConfig::default());
    let answer = call(
        &open,
        Method::GET,
        "/reports",
        &[("origin", "https://a.example")],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.headers.get("access-control-allow-origin").is_none(),
        "no CORS unless configured"
    );

    let env = [(
        "CITYFLOW_API_CORS_ORIGINS".to_string(),
        "https://a.example, https://b.example".to_string(),
    )]
    .into();
    let api = router(store, ApiConfig::from_env(&env).unwrap());
    let allowed = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("origin", "https://b.example")],
    )
    .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        "https://b.example"
    );
    assert!(allowed
        .header("access-control-expose-headers")
        .to_ascii_lowercase()
        .contains("etag"));
    let other = call(
        &api,
        Method::GET,
        "/reports/2026-03-10",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(other.status, 200);
    assert!(other.headers.get("access-control-allow-origin").is_none());
    let preflight = call(
        &api,
        Method::OPTIONS,
        "/reports/2026-03-10",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "authorization"),
        ],
    )
    .await;
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        "https://a.example"
    );
    let methods = preflight.header("access-control-allow-methods");
    assert!(
        methods.contains("GET") && methods.contains("HEAD") && !methods.contains("POST"),
        "{methods}"
    );
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let api = router(
        Arc::new(cityflow_storage_fs::FsReportStore::new(dir.path())),
        ApiConfig::default(),
    );
    let doc = get(&api, "/openapi.json").await.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/",
        "/health",
        "/ready",
        "/reports",
        "/reports/latest",
        "/reports/{date}",
        "/reports/{date}/map.svg",
        "/stats",
        "/openapi.json",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let params = doc["paths"]["/reports"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["from", "to", "limit", "cursor"]);
    let stats_params = doc["paths"]["/stats"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert_eq!(stats_params.len(), 2, "/stats: from and to");
    // Only the answers a route can give: `/reports/latest` has nothing to send a 400 about.
    let answers = |path: &str| {
        let mut codes: Vec<String> = doc["paths"][path]["get"]["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(
        answers("/reports/latest"),
        ["200", "304", "404", "406", "503"]
    );
    assert_eq!(
        answers("/reports/{date}"),
        ["200", "304", "400", "404", "406", "503"]
    );
}

/// A report whose road sections came from the raw counts, built from inputs of `newest_ms`.
fn built_from_raw(
    mut stored: cityflow_core::StoredReport,
    newest_ms: i64,
) -> cityflow_core::StoredReport {
    let mut provenance = cityflow_core::Provenance::of(Vec::new());
    provenance.newest_modified_ms = newest_ms;
    provenance.sections.insert(
        "comptages".into(),
        cityflow_core::SectionOrigin {
            from: cityflow_core::SectionFrom::Raw,
            inputs: vec!["comptages.csv".into()],
        },
    );
    stored.built_from = Some(provenance);
    stored
}

fn svg_of(newest_ms: i64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\" data-built-from-ms=\"{newest_ms}\"><title>Carte</title></svg>\n"
    )
}

#[tokio::test]
async fn the_map_of_a_day_is_served_with_its_report() {
    use cityflow_core::{BlobKey, BlobSink};
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ReportStore> = Arc::new(cityflow_storage_fs::FsReportStore::new(
        dir.path().join("reports"),
    ));
    let maps: Arc<dyn BlobSink> = Arc::new(cityflow_storage_fs::FsBlobSink::new(
        dir.path().join("maps"),
    ));
    let reports = fixture_reports();
    // 03-09: from raw counts, with its map; 03-08: from raw counts, its map drawn for an
    // older build; 03-10: from metrics, no map.
    let with_map = built_from_raw(reports[6].clone(), 1_000);
    let stale = built_from_raw(reports[5].clone(), 2_000);
    let metrics_only = reports[7].clone();
    for stored in [&with_map, &stale, &metrics_only] {
        store.put(stored).await.unwrap();
    }
    let put_map = |date: &str, svg: String| {
        let maps = maps.clone();
        let date = d(date);
        async move {
            maps.put(&BlobKey::day_map(date), svg.into(), "image/svg+xml")
                .await
                .unwrap()
        }
    };
    put_map("2026-03-09", svg_of(1_000)).await;
    put_map("2026-03-08", svg_of(1_999)).await;
    let api = cityflow_api::router_with_maps(store.clone(), Some(maps), ApiConfig::default());

    let map = get(&api, "/reports/2026-03-09/map.svg").await;
    assert_eq!(map.status, 200, "{}", map.text());
    assert_eq!(map.header("content-type"), "image/svg+xml");
    assert_eq!(map.text(), svg_of(1_000));
    assert_eq!(map.header("cache-control"), "public, max-age=3600");
    assert_eq!(map.header("last-modified"), "Tue, 10 Mar 2026 05:00:00 GMT");
    assert!(map
        .header("content-security-policy")
        .contains("default-src 'none'"));
    let etag = map.header("etag").to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    let again = call(
        &api,
        Method::GET,
        "/reports/2026-03-09/map.svg",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    let head = call(&api, Method::HEAD, "/reports/2026-03-09/map.svg", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.text().is_empty());
    call(
        &api,
        Method::GET,
        "/reports/2026-03-09/map.svg",
        &[("accept", "text/html")],
    )
    .await
    .problem(406);

    // The page embeds the map, with a caption; a day from metrics has none.
    let page = get(&api, "/reports/2026-03-09.html").await.text();
    assert!(
        page.contains("<img src=\"/reports/2026-03-09/map.svg\""),
        "{page}"
    );
    assert!(page.contains("<figcaption>Taux d'occupation moyen"));
    let page = get(&api, "/reports/2026-03-10.html").await.text();
    assert!(!page.contains("map.svg"));

    let none = get(&api, "/reports/2026-03-10/map.svg").await.problem(404);
    assert!(none["detail"]
        .as_str()
        .unwrap()
        .contains("no map is stored for 2026-03-10"));
    let other_build = get(&api, "/reports/2026-03-08/map.svg").await.problem(404);
    assert!(
        other_build["detail"]
            .as_str()
            .unwrap()
            .contains("another build"),
        "{other_build}"
    );
    get(&api, "/reports/2026-02-30/map.svg").await.problem(400);
    get(&api, "/reports/2026-01-01/map.svg").await.problem(404);

    // A router without maps: 404, and pages without a map.
    let plain = router(store, ApiConfig::default());
    get(&plain, "/reports/2026-03-09/map.svg")
        .await
        .problem(404);
    assert!(!get(&plain, "/reports/2026-03-09.html")
        .await
        .text()
        .contains("map.svg"));
}
