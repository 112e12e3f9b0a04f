//! `/openapi.json`: OpenAPI 3.1, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::problem::Problem;
use crate::routes;
use crate::views::{
    Envelope, Indicator, Links, Point, ReportItem, ReportList, Stats, SummaryFigures,
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
        routes::stats,
        routes::dashboard,
        routes::openapi,
    ),
    components(schemas(Problem, Envelope, ReportList, ReportItem, Links, SummaryFigures, Stats, Indicator, Point)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

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
