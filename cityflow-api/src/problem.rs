//! Errors as `application/problem+json` (RFC 9457).
//!
//! Every error the API returns goes through [`Problem`]: a `type` URI that names the problem
//! (stable, for programs), a `title` (the same for every occurrence), the `status` and a
//! `detail` written for the reader. Store errors are mapped by kind; their messages, which
//! name hosts, tables and paths, go to the log and never into a response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cityflow_core::{Error, ErrorKind};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "urn:cityflow:problem:invalid-date",
    "title": "Invalid date",
    "status": 400,
    "detail": "\"2025-13-01\" is not a valid date (expected YYYY-MM-DD, e.g. 2025-11-04)"
}))]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:cityflow:problem:…`); never dereferenced.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary, the same for every occurrence of the kind.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request, for a human reader.
    pub detail: String,
    /// Extra headers (`Allow`, `WWW-Authenticate`); not part of the body.
    #[serde(skip)]
    #[schema(ignore)]
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:cityflow:problem:{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            headers: Vec::new(),
        }
    }

    /// 400: a date that is not `YYYY-MM-DD`.
    pub fn invalid_date(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-date",
            "Invalid date",
            detail,
        )
    }

    /// 400: a range that is inverted or too long, or an unknown query parameter.
    pub fn invalid_query(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "Invalid query",
            detail,
        )
    }

    /// 404: no report for that date, or no such page.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 405, with the `Allow` header.
    pub fn method_not_allowed(allow: HeaderValue) -> Self {
        let mut p = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!(
                "this resource answers {} only",
                allow.to_str().unwrap_or("GET, HEAD")
            ),
        );
        p.headers.push((header::ALLOW, allow));
        p
    }

    /// 406: none of the media types in `Accept` can be produced.
    pub fn not_acceptable(offered: &[&str]) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            "Not acceptable",
            format!(
                "this resource is available as {}; the Accept header allows none of them",
                offered.join(", ")
            ),
        )
    }

    /// 401, with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        );
        p.headers.push((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"cityflow\""),
        ));
        p
    }

    /// 503: the report store did not answer in time or failed.
    pub fn store_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            "Report store unavailable",
            "the report store could not be read; try again later",
        )
    }

    /// 500: a stored report that cannot be read back. The detail says no more than that.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the report could not be produced",
        )
    }

    /// Any other status the server itself produces (408, 413, 431…), with its reason phrase.
    pub fn status(status: StatusCode) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Self::new(
            status,
            &title.to_ascii_lowercase().replace(' ', "-"),
            title,
            format!("the request could not be served: {title}"),
        )
    }

    /// The problem for a store error, logged with its full message (which names the target)
    /// but answered by kind only.
    pub fn from_store(error: &Error) -> Self {
        match error.kind() {
            ErrorKind::NotFound => Self::not_found("no report is stored for this date"),
            ErrorKind::InvalidInput => {
                tracing::warn!(error = %error, "report store refused a request");
                Self::invalid_query("the request was refused by the report store")
            }
            ErrorKind::Unavailable => {
                tracing::warn!(error = %error, "report store unavailable");
                Self::store_unavailable()
            }
            _ => {
                tracing::error!(error = %error, "report store failed");
                Self::store_unavailable()
            }
        }
    }

    /// The HTTP status of this problem.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (
            status,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The answers other than 200 of a report's representations, `/reports/latest` included,
/// for the OpenAPI document; the routes naming a date add [`DateErrors`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ReportErrors {
    /// Not modified (`If-None-Match` or `If-Modified-Since`).
    #[response(status = 304)]
    NotModified,
    /// No such report: none for that date, or none at all yet (`/reports/latest`).
    #[response(status = 404, content_type = "application/problem+json")]
    NoReport(Problem),
    /// `Accept` allows none of the representations.
    #[response(status = 406, content_type = "application/problem+json")]
    NotAcceptable(Problem),
    /// The store does not answer in time.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// The answer of a route naming a date that is not one, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum DateErrors {
    /// Not a date.
    #[response(status = 400, content_type = "application/problem+json")]
    BadDate(Problem),
}

/// The answers other than 200 of `/reports` and `/stats`, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum RangeErrors {
    /// Not modified (`If-None-Match`).
    #[response(status = 304)]
    NotModified,
    /// An unreadable date, limit or cursor, an inverted range, or a `/stats` range longer
    /// than 3,660 days.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRange(Problem),
    /// `Accept` excludes `application/json`.
    #[response(status = 406, content_type = "application/problem+json")]
    NotAcceptable(Problem),
    /// The store does not answer in time.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}
