//! `/openapi.json`: OpenAPI 3.1, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::problem::{DateErrors, Problem, RangeErrors, ReportErrors};
use crate::routes::{self, Health};
use crate::views::{
    Envelope, Indicator, Links, Point, RangeQuery, ReportItem, ReportList, Stats, SummaryFigures,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CityFlow Reports",
        description = "Paris's daily road-traffic reports: JSON, CSV and HTML. Errors are application/problem+json (RFC 9457). When the server has a token (CITYFLOW_API_TOKEN), every route but /health and /ready needs `Authorization: Bearer <token>`. The old tool's paths /report/{date}, /api/report/{date}, /api/health and /api/stats answer as /reports/{date}, /health and /stats.",
    ),
    paths(
        routes::health,
        routes::ready,
        routes::list,
        routes::latest,
        routes::report,
        routes::map,
        report_json,
        report_csv,
        report_html,
        routes::stats,
        routes::dashboard,
        routes::openapi,
        old_report,
        old_api_report,
        old_api_health,
        old_api_stats,
    ),
    components(schemas(Problem, Envelope, ReportList, ReportItem, Links, SummaryFigures, Stats, Indicator, Point)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

// The routes below are served by the handlers above (`/reports/{date}` takes the suffix,
// the old paths are the same handlers): these functions only document them, so that every
// URL the server answers is in the document with its own parameters and responses.

/// One day's envelope as JSON.
#[utoipa::path(get, path = "/reports/{date}.json", tag = "reports",
    params(("date" = String, Path, format = Date, example = "2026-03-10")),
    responses(
        (status = 200, description = "The envelope {report_id, date, timestamp, report}", body = Envelope),
        DateErrors,
        ReportErrors,
    ))]
#[allow(dead_code)]
fn report_json() {}

/// One day's CSV, byte-identical to the exported file, as an attachment
/// (`daily_report_{date}.csv`).
#[utoipa::path(get, path = "/reports/{date}.csv", tag = "reports",
    params(("date" = String, Path, format = Date, example = "2026-03-10")),
    responses(
        (status = 200, description = "The CSV", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "attachment; filename=\"daily_report_{date}.csv\""))),
        DateErrors,
        ReportErrors,
    ))]
#[allow(dead_code)]
fn report_csv() {}

/// One day's report page (French, charts as inline SVG).
#[utoipa::path(get, path = "/reports/{date}.html", tag = "pages",
    params(("date" = String, Path, format = Date, example = "2026-03-10")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        DateErrors,
        ReportErrors,
    ))]
#[allow(dead_code)]
fn report_html() {}

/// The old tool's path of `/reports/{date}`.
#[utoipa::path(get, path = "/report/{date}", tag = "old paths",
    params(("date" = String, Path, format = Date, example = "2026-03-10")),
    responses(
        (status = 200, description = "As `/reports/{date}`",
            content((Envelope = "application/json"), (String = "text/csv"), (String = "text/html"))),
        DateErrors,
        ReportErrors,
    ))]
#[allow(dead_code)]
fn old_report() {}

/// The old tool's path of `/reports/{date}` behind its `/api` prefix.
#[utoipa::path(get, path = "/api/report/{date}", tag = "old paths",
    params(("date" = String, Path, format = Date, example = "2026-03-10")),
    responses(
        (status = 200, description = "As `/reports/{date}`",
            content((Envelope = "application/json"), (String = "text/csv"), (String = "text/html"))),
        DateErrors,
        ReportErrors,
    ))]
#[allow(dead_code)]
fn old_api_report() {}

/// The old tool's path of `/health`.
#[utoipa::path(get, path = "/api/health", tag = "old paths",
    responses((status = 200, description = "As `/health`", body = Health)))]
#[allow(dead_code)]
fn old_api_health() {}

/// The old tool's path of `/stats`.
#[utoipa::path(get, path = "/api/stats", tag = "old paths", params(RangeQuery),
    responses(
        (status = 200, description = "As `/stats`", body = Stats),
        RangeErrors,
    ))]
#[allow(dead_code)]
fn old_api_stats() {}

/// Declares the optional bearer scheme.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, serialized.
pub fn openapi_json() -> Vec<u8> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    serde_json::to_vec_pretty(&doc).expect("the OpenAPI document serializes")
}
