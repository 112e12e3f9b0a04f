//! # cityflow-api
//!
//! The reports over HTTP: an axum [`Router`] over any [`ReportStore`] (files, MongoDB,
//! DynamoDB: the factory's store), served by `cityflow serve` on a socket and by the
//! `cityflow-api-lambda` function behind API Gateway, the same router in both.
//!
//! - JSON: `/health`, `/ready`, `/reports`, `/reports/latest`, `/reports/{date}` (JSON, CSV
//!   or HTML by `Accept` or by a `.json`/`.csv`/`.html` suffix), `/stats`, `/openapi.json`;
//!   the old tool's `/report/{date}`, `/api/report/{date}`, `/api/health`, `/api/stats`.
//! - Pages, in French, rendered on the server with inline SVG charts: `/` and
//!   `/reports/{date}.html`.
//! - Errors are `application/problem+json` ([`Problem`]); reports carry strong `ETag`s and
//!   `Last-Modified` and answer conditional requests with 304 (see the `cache` module).
//!
//! ```no_run
//! # async fn run(store: std::sync::Arc<dyn cityflow_core::ReportStore>) -> std::io::Result<()> {
//! let config = cityflow_api::ApiConfig::default();
//! let listener = tokio::net::TcpListener::bind(&config.bind).await?;
//! cityflow_api::serve(listener, cityflow_api::router(store, config), cityflow_api::shutdown_signal()).await
//! # }
//! ```

mod auth;
mod cache;
mod charts;
mod config;
mod fr;
mod negotiate;
mod openapi;
mod pages;
mod problem;
mod routes;
mod views;

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use chrono::NaiveDate;
use cityflow_core::{BlobSink, ReportStore};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::OPEN_PATHS;
pub use cache::etag_of;
pub use config::{ApiConfig, ApiToken, API_VARIABLES};
pub use openapi::openapi_json;
pub use problem::{Problem, PROBLEM_JSON};
pub use views::{DEFAULT_LATEST, MAX_RANGE_DAYS, SUMMARIES_PER_CALL};

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct ApiState {
    reader: views::Reader,
    config: Arc<ApiConfig>,
    /// `/openapi.json`, generated once.
    openapi: Bytes,
    /// Report representations already built, by the store's version token.
    cache: Arc<cache::RepresentationCache>,
    /// `/stats` and list answers already computed, by the store's token of their summaries.
    answers: Arc<cache::SummaryAnswerCache>,
}

impl ApiState {
    /// Whether answers depend on a token (then caches must keep them private).
    fn private(&self) -> bool {
        self.config.token.is_some()
    }
}

/// Today's date in Paris, the calendar reports follow.
pub(crate) fn today_in_paris() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
}

/// The API over `store`, with its layers: tracing, compression, CORS (when configured),
/// problem documents for bare errors, the token check (when configured), the request
/// timeout and the concurrency limit.
pub fn router(store: Arc<dyn ReportStore>, config: ApiConfig) -> Router {
    router_with_maps(store, None, config)
}

/// [`router`], also serving the maps of the days from `maps` (the factory's `Storage::maps`)
/// at `/reports/{date}/map.svg`; without it that route answers 404.
pub fn router_with_maps(
    store: Arc<dyn ReportStore>,
    maps: Option<Arc<dyn BlobSink>>,
    config: ApiConfig,
) -> Router {
    let state = ApiState {
        reader: views::Reader {
            store,
            maps,
            timeout: config.store_timeout,
        },
        openapi: Bytes::from(openapi_json()),
        cache: Arc::default(),
        answers: Arc::default(),
        config: Arc::new(config),
    };
    let config = state.config.clone();
    let routes = Router::new()
        .route("/", get(routes::dashboard))
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/reports", get(routes::list))
        .route("/reports/latest", get(routes::latest))
        .route("/reports/{date}", get(routes::report))
        .route("/reports/{date}/map.svg", get(routes::map))
        .route("/stats", get(routes::stats))
        .route("/openapi.json", get(routes::openapi))
        // The old tool's paths.
        .route("/report/{date}", get(routes::report))
        .route("/api/report/{date}", get(routes::report))
        .route("/api/health", get(routes::health))
        .route("/api/stats", get(routes::stats))
        .fallback(routes::not_found)
        .with_state(state.clone());

    let cors = (!config.cors_origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(config.cors_origins.clone()))
            .allow_methods([Method::GET, Method::HEAD])
            .allow_headers([
                header::AUTHORIZATION,
                header::IF_NONE_MATCH,
                header::IF_MODIFIED_SINCE,
            ])
            .expose_headers([
                header::ETAG,
                header::LAST_MODIFIED,
                header::CONTENT_LOCATION,
            ])
    });
    routes.layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            // No content sniffing: a JSON error repeating a value is never rendered as HTML.
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(axum::middleware::from_fn(cache::tag_encoded_bodies))
            .layer(CompressionLayer::new())
            .option_layer(cors)
            .layer(axum::middleware::from_fn(routes::problems_for_bare_errors))
            .layer(axum::middleware::from_fn(routes::reject_oversized))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::require_token,
            ))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                config.request_timeout,
            ))
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                config.max_concurrency,
            )),
    )
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGTERM (what ECS, systemd and `docker stop` send) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
