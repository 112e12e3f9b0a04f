//! What the API tests share: fixture reports and a client over the router.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::NaiveDate;
use cityflow_core::{DailyReport, ReportStore, StoredReport, Timestamp};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub use cityflow_core::conformance::unique_name;

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/metrics")
}

/// The example day's report (2026-03-10), as the generator builds it.
pub fn example_report() -> DailyReport {
    cityflow_core::generate_from_metrics_dir(
        &examples(),
        d("2026-03-10"),
        Timestamp::parse("2026-03-11T05:00:00+00:00").unwrap(),
    )
    .unwrap()
    .report
}

/// Eight days, 2026-03-03 to 2026-03-10: the example report with figures that differ by
/// day (known, so that statistics can be checked), one arc named with markup on 03-09 and
/// no sensor availability on 03-05.
pub fn fixture_reports() -> Vec<StoredReport> {
    let base = example_report();
    (0..8)
        .map(|i| {
            let date = d("2026-03-03") + chrono::Days::new(i);
            let mut report = base.clone();
            report.date = date;
            report.summary.total_vehicules_paris = 1_000_000 + 10_000 * i;
            report.summary.temps_perdu_total_minutes = 500.5 + i as f64;
            report.summary.nombre_troncons_satures = 10 + i;
            report.summary.taux_disponibilite_capteurs =
                if i == 2 { None } else { Some(90.0 + i as f64) };
            report.summary.total_velos_paris = 20_000 + i;
            if i == 6 {
                report.top_10_troncons_frequentes[0].libelle =
                    "<script>alert('x')</script> Quai & \"Pont\"".to_string();
            }
            let at = Timestamp::parse(&format!("{}T05:00:00+00:00", date + chrono::Days::new(1)))
                .unwrap();
            StoredReport::new(report, at)
        })
        .collect()
}

pub async fn store_all(store: &Arc<dyn ReportStore>, reports: &[StoredReport]) {
    for r in reports {
        store.put(r).await.unwrap();
    }
}

/// One answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// Checks an RFC 9457 problem with `status`, and returns it.
    pub fn problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), "application/problem+json");
        let p = self.json();
        assert_eq!(p["status"], status);
        for field in ["type", "title", "detail"] {
            assert!(
                p[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field} in {p}"
            );
        }
        assert!(p["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:cityflow:problem:"));
        p
    }
}

pub async fn call(router: &Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn get(router: &Router, uri: &str) -> Answer {
    call(router, Method::GET, uri, &[]).await
}
