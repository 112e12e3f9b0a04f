//! The handlers: JSON, CSV and HTML over the report store.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use cityflow_core::{render_csv, DateRange, ReportSummary, StoredReport};
use serde::Serialize;

use crate::cache::{Freshness, Representation};
use crate::negotiate;
use crate::pages;
use crate::problem::{DateErrors, Problem, RangeErrors, ReportErrors};
use crate::views::{
    date_param, item_of, Envelope, ListPage, ListQuery, RangeQuery, ReportList, Stats,
};
use crate::ApiState;

pub(crate) const JSON: &str = "application/json";
pub(crate) const CSV: &str = "text/csv; charset=utf-8";
pub(crate) const HTML: &str = "text/html; charset=utf-8";
pub(crate) const SVG: &str = "image/svg+xml";

/// The query of `/reports` and `/stats`, or the 400 saying why it cannot be read.
type RangeParams = Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>;

fn range_of(params: RangeParams) -> Result<RangeQuery, Problem> {
    params
        .map(|Query(q)| q)
        .map_err(|e| Problem::invalid_query(e.body_text()))
}

/// A JSON body that is listed or computed (its `Accept` already checked): no validators
/// worth keeping beyond the ETag.
fn json_response<T: Serialize>(
    state: &ApiState,
    headers: &HeaderMap,
    value: &T,
) -> Result<Response, Problem> {
    Ok(json_representation(value)?.respond(headers, state.private()))
}

fn json_representation<T: Serialize>(value: &T) -> Result<Representation, Problem> {
    let body = serde_json::to_vec(value).map_err(|e| {
        tracing::error!(error = %e, "cannot serialize a response");
        Problem::internal()
    })?;
    Ok(Representation::new(body, JSON, Freshness::Revalidate))
}

/// An answer computed from the summaries of `range` (`/stats`, a page of `/reports`), known
/// by `key`: from the cache when the store's token of those summaries is the one it was
/// computed under, else computed by `compute` (and kept when the store has a token). The
/// token is taken before the read, so an answer is never kept under a token newer than its
/// data: a write in between only costs a miss.
async fn summary_answer(
    state: &ApiState,
    key: String,
    range: DateRange,
    compute: impl std::future::Future<Output = Result<Representation, Problem>>,
) -> Result<Representation, Problem> {
    let version = state.reader.summaries_version(range).await;
    if let Some(version) = &version {
        if let Some(rep) = state.answers.get(&key, version) {
            return Ok(rep);
        }
    }
    let rep = compute.await?;
    if let Some(version) = version {
        state.answers.insert(key, version, rep.clone());
    }
    Ok(rep)
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    status: &'static str,
    /// The version of CityFlow serving.
    #[schema(example = "0.1.0")]
    version: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub(crate) async fn health() -> Response {
    health_answer("ok")
}

/// `{"status", "version"}`, never stored by caches.
fn health_answer(status: &'static str) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(Health {
            status,
            version: env!("CARGO_PKG_VERSION"),
        }),
    )
        .into_response()
}

/// The report store answers within its timeout.
#[utoipa::path(get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "The store answers", body = Health),
        (status = 503, description = "The store does not answer in time", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn ready(State(state): State<ApiState>) -> Result<Response, Problem> {
    state.reader.ready().await?;
    Ok(health_answer("ready"))
}

/// The query of `/reports`, or the 400 saying why it cannot be read.
type ListParams = Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>;

/// The stored reports with their summary figures, a page at a time.
#[utoipa::path(get, path = "/reports", tag = "reports", params(ListQuery),
    responses(
        (status = 200, description = "One page of the reports of the range (the whole history when open), oldest first. When more follow, `next` holds the cursor of the next page and `Link: <…>; rel=\"next\"` its URL.", body = ReportList,
            headers(("Link" = String, description = "`</reports?…&cursor=…>; rel=\"next\"`, when another page follows"))),
        RangeErrors,
    ))]
pub(crate) async fn list(
    State(state): State<ApiState>,
    headers: HeaderMap,
    params: ListParams,
) -> Result<Response, Problem> {
    let page = params
        .map(|Query(q)| q)
        .map_err(|e| Problem::invalid_query(e.body_text()))?
        .page()?;
    negotiate::require(&headers, &[JSON])?;
    let Some(query) = page.query() else {
        return json_response(&state, &headers, &page_of(&page, &[]));
    };
    let key = format!(
        "reports {:?} {:?} {} {:?}",
        page.from, page.to, page.limit, page.after
    );
    let rep = summary_answer(&state, key, query.range, async {
        let summaries = state.reader.summaries(query).await?;
        let list = page_of(&page, &summaries);
        let mut rep = json_representation(&list)?;
        if let Some(last) = list.next.as_ref().and(summaries.last()) {
            let link = format!("<{}>; rel=\"next\"", page.next_url(last.date));
            rep = rep.header(
                header::LINK,
                HeaderValue::from_str(&link).expect("dates and hex digits are ASCII"),
            );
        }
        Ok(rep)
    })
    .await?;
    Ok(rep.respond(&headers, state.private()))
}

/// The list answer of `page` holding `summaries`.
fn page_of(page: &ListPage, summaries: &[ReportSummary]) -> ReportList {
    // A full page may be the last one: then the next page is empty, which costs one query
    // and tells the client the same.
    let next = match summaries.last() {
        Some(last) if summaries.len() >= page.limit && page.to != Some(last.date) => {
            Some(last.date)
        }
        _ => None,
    };
    ReportList {
        from: page.from,
        to: page.to,
        count: summaries.len(),
        limit: page.limit,
        reports: summaries.iter().map(item_of).collect(),
        next: next.map(crate::views::cursor_of),
    }
}

/// The summary's indicators over a range: series, mean, min and max.
#[utoipa::path(get, path = "/stats", tag = "reports", params(RangeQuery),
    responses(
        (status = 200, description = "Each indicator over the reports of the range (at most 3,660 days: ten years), or of the 30 most recent, from the stores' summaries", body = Stats),
        RangeErrors,
    ))]
pub(crate) async fn stats(
    State(state): State<ApiState>,
    headers: HeaderMap,
    params: RangeParams,
) -> Result<Response, Problem> {
    let range = range_of(params)?.range()?;
    negotiate::require(&headers, &[JSON])?;
    let (key, read) = match range {
        Some((from, to)) => (
            format!("stats {from} {to}"),
            DateRange {
                from: Some(from),
                to: Some(to),
            },
        ),
        None => ("stats latest".to_string(), DateRange::ALL),
    };
    let rep = summary_answer(&state, key, read, async {
        let summaries = state.reader.summaries_over(range).await?;
        json_representation(&Stats::of(
            range.map(|r| r.0),
            range.map(|r| r.1),
            &summaries,
        ))
    })
    .await?;
    Ok(rep.respond(&headers, state.private()))
}

/// How a report path names its representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suffix {
    /// `/reports/D`: negotiated.
    None,
    Json,
    Csv,
    Html,
}

/// `2025-11-04`, `2025-11-04.csv`, `.json`, `.html`.
fn report_path(file: &str) -> Result<(NaiveDate, Suffix), Problem> {
    let (stem, suffix) = match file.rsplit_once('.') {
        Some((stem, "csv")) => (stem, Suffix::Csv),
        Some((stem, "json")) => (stem, Suffix::Json),
        Some((stem, "html")) => (stem, Suffix::Html),
        _ => (file, Suffix::None),
    };
    Ok((date_param("date", stem)?, suffix))
}

/// The representation of `stored` in `media` (one of JSON, CSV, HTML).
/// `maps_served`: this API serves maps (the page then embeds the day's, when it has one).
fn represent(
    stored: &StoredReport,
    media: &str,
    maps_served: bool,
) -> Result<Representation, Problem> {
    let date = stored.date;
    let freshness = Freshness::of_report(date, crate::today_in_paris());
    let rep = match media {
        JSON => {
            let body = serde_json::to_vec(&Envelope::of(stored)).map_err(|e| {
                tracing::error!(error = %e, %date, "cannot serialize a report");
                Problem::internal()
            })?;
            Representation::new(body, JSON, freshness)
        }
        CSV => {
            let disposition = format!("attachment; filename=\"daily_report_{date}.csv\"");
            Representation::new(render_csv(&stored.report), CSV, freshness).header(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).expect("ASCII"),
            )
        }
        _ => Representation::new(
            pages::report_page(stored, maps_served && crate::views::has_map(stored)),
            HTML,
            freshness,
        ),
    };
    Ok(rep.last_modified(stored.timestamp.0.to_utc()))
}

/// The representation of the report of `date` in `media`: from the cache when the store's
/// version token of the report is the one it was built from, else read and built (and kept
/// when the store has a token).
async fn representation(
    state: &ApiState,
    date: NaiveDate,
    media: &'static str,
) -> Result<Representation, Problem> {
    let version = state.reader.version(date).await;
    if let Some(version) = &version {
        if let Some(mut rep) = state.cache.get(&(date, media), version) {
            // The policy depends on today's date, not on the report: computed afresh.
            rep.freshness = Freshness::of_report(date, crate::today_in_paris());
            return Ok(rep);
        }
    }
    let stored = state.reader.get(date).await?;
    let rep = represent(&stored, media, state.reader.maps.is_some())?;
    if let Some(version) = version {
        state.cache.insert((date, media), version, rep.clone());
    }
    Ok(rep)
}

const REPORT_OFFERS: &[&str] = &[JSON, CSV, HTML];

fn offers(suffix: Suffix) -> &'static [&'static str] {
    match suffix {
        Suffix::None => REPORT_OFFERS,
        Suffix::Json => &REPORT_OFFERS[0..1],
        Suffix::Csv => &REPORT_OFFERS[1..2],
        Suffix::Html => &REPORT_OFFERS[2..3],
    }
}

/// Maps the media types the negotiation sees (without parameters) to ours.
fn negotiate_report(headers: &HeaderMap, suffix: Suffix) -> Result<&'static str, Problem> {
    let ours = offers(suffix);
    let bare: Vec<&str> = ours
        .iter()
        .map(|m| m.split(';').next().unwrap_or(m))
        .collect();
    let chosen = negotiate::require(headers, &bare)?;
    Ok(ours[bare.iter().position(|b| *b == chosen).unwrap_or(0)])
}

/// One day's report: the envelope, the CSV or the page.
#[utoipa::path(get, path = "/reports/{date}", tag = "reports",
    params(("date" = String, Path, format = Date, description = "The day, `YYYY-MM-DD`. `/reports/{date}.json`, `.csv` and `.html` choose the representation without `Accept`", example = "2026-03-10")),
    responses(
        (status = 200, description = "The report. JSON: the envelope {report_id, date, timestamp, report}. CSV: byte-identical to the exported file. HTML: the report page.",
            content(
                (Envelope = "application/json"),
                (String = "text/csv"),
                (String = "text/html"),
            ),
            headers(
                ("ETag" = String, description = "Strong validator of these bytes"),
                ("Last-Modified" = String, description = "When the report was exported"),
                ("Cache-Control" = String, description = "`max-age=3600` for days before yesterday, `no-cache` for today and yesterday"),
            )),
        DateErrors,
        ReportErrors,
    ))]
pub(crate) async fn report(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, Problem> {
    let (date, suffix) = report_path(&file)?;
    let media = negotiate_report(&headers, suffix)?;
    let mut rep = representation(&state, date, media).await?;
    if suffix == Suffix::None {
        rep = rep.header(header::VARY, HeaderValue::from_static("Accept"));
    }
    Ok(rep.respond(&headers, state.private()))
}

/// The map of the day.
#[utoipa::path(get, path = "/reports/{date}/map.svg", tag = "reports",
    params(("date" = String, Path, format = Date, example = "2026-03-10")),
    responses(
        (status = 200, description = "The map of the day (SVG, self-contained): arcs coloured by mean occupancy, the top 10 numbered, active roadworks, bike counters. Drawn for days whose road sections come from the raw counts.",
            content_type = "image/svg+xml",
            headers(
                ("ETag" = String, description = "Strong validator of these bytes"),
                ("Last-Modified" = String, description = "When the report was exported"),
                ("Cache-Control" = String, description = "As the report's"),
            )),
        DateErrors,
        ReportErrors,
    ))]
pub(crate) async fn map(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(date): Path<String>,
) -> Result<Response, Problem> {
    let date = date_param("date", &date)?;
    negotiate::require(&headers, &[SVG])?;
    let stored = state.reader.get(date).await?;
    let svg = state.reader.map(&stored).await?;
    let freshness = Freshness::of_report(date, crate::today_in_paris());
    Ok(Representation::new(svg, SVG, freshness)
        .last_modified(stored.timestamp.0.to_utc())
        // The map holds no script; should a stored file ever hold one, it does not run.
        .header(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
        )
        .respond(&headers, state.private()))
}

/// The newest report, as `/reports/{date}` would serve it.
#[utoipa::path(get, path = "/reports/latest", tag = "reports",
    responses(
        (status = 200, description = "The newest report; `Content-Location` names its own URL",
            content((Envelope = "application/json"), (String = "text/csv"), (String = "text/html"))),
        ReportErrors,
    ))]
pub(crate) async fn latest(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let media = negotiate_report(&headers, Suffix::None)?;
    let date = state.reader.latest().await?;
    let mut rep = representation(&state, date, media).await?;
    // Which day is the latest changes: never fresh without asking.
    rep.freshness = Freshness::Revalidate;
    Ok(rep
        .header(header::VARY, HeaderValue::from_static("Accept"))
        .header(
            header::CONTENT_LOCATION,
            HeaderValue::from_str(&format!("/reports/{date}")).expect("ASCII"),
        )
        .respond(&headers, state.private()))
}

/// The dashboard.
#[utoipa::path(get, path = "/", tag = "pages",
    responses(
        (status = 200, description = "The dashboard (French): latest summary, 30-day trends, report dates", content_type = "text/html"),
        (status = 406, description = "Accept excludes text/html", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn dashboard(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    negotiate::require(&headers, &["text/html"])?;
    let summaries = state.reader.summaries_over(None).await?;
    let page = pages::dashboard(&summaries);
    Ok(Representation::new(page, HTML, Freshness::Revalidate).respond(&headers, state.private()))
}

/// The OpenAPI 3.1 description of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
pub(crate) async fn openapi(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    Representation::new(state.openapi.clone(), JSON, Freshness::Revalidate).respond(&headers, false)
}

/// The longest request target (path and query) served, in bytes: far above any real URL of
/// this API, far below what a hostile client may send.
pub(crate) const MAX_TARGET_BYTES: usize = 4 * 1024;
/// The most header bytes (names and values) a request may carry.
pub(crate) const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Middleware: 414 for an overlong target, 431 for oversized headers, before any work.
pub(crate) async fn reject_oversized(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Problem::status(StatusCode::URI_TOO_LONG).into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Problem::status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).into_response();
    }
    next.run(request).await
}

/// What the router answers for a path it does not know.
pub(crate) async fn not_found() -> Problem {
    Problem::not_found("no such resource")
}

/// Status codes with an empty body from layers (405 of the method router, 408/503 of the
/// timeout, 413, …) become problem documents, keeping their headers (`Allow`).
pub(crate) async fn problems_for_bare_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let problem = if status == StatusCode::METHOD_NOT_ALLOWED {
        let allow = response
            .headers()
            .get(header::ALLOW)
            .cloned()
            .unwrap_or(HeaderValue::from_static("GET,HEAD"));
        Problem::method_not_allowed(allow)
    } else if status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::SERVICE_UNAVAILABLE {
        Problem::store_unavailable()
    } else {
        Problem::status(status)
    };
    let (mut parts, _) = response.into_parts();
    let fresh = problem.into_response();
    let (fresh_parts, body) = fresh.into_parts();
    parts.status = fresh_parts.status;
    for (name, value) in fresh_parts.headers.iter() {
        parts.headers.insert(name, value.clone());
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths() {
        let d: NaiveDate = "2025-11-04".parse().unwrap();
        assert_eq!(report_path("2025-11-04").unwrap(), (d, Suffix::None));
        assert_eq!(report_path("2025-11-04.csv").unwrap(), (d, Suffix::Csv));
        assert_eq!(report_path("2025-11-04.json").unwrap(), (d, Suffix::Json));
        assert_eq!(report_path("2025-11-04.html").unwrap(), (d, Suffix::Html));
        for bad in [
            "2025-11-04.xml",
            "2025-11-4",
            "..",
            "2025-11-04.csv.csv",
            "",
        ] {
            assert_eq!(report_path(bad).unwrap_err().status, 400, "{bad}");
        }
    }
}
