//! Bearer-token access: every route but the health checks, compared in constant time.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::ApiState;

/// Paths open without a token: probes of load balancers and orchestrators, which hold none.
/// `/api/health` is the old tool's name of `/health`.
pub const OPEN_PATHS: &[&str] = &["/health", "/ready", "/api/health"];

/// Whether `given` equals `expected`, in a time that depends on neither: both are hashed to
/// 32 bytes first, so not even the length of the token leaks, then compared byte by byte
/// without an early exit.
fn same_token(given: &[u8], expected: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    let difference = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// Middleware: 401 problem with `WWW-Authenticate` unless the request carries the token.
pub async fn require_token(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &state.config.token else {
        return next.run(request).await;
    };
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, credentials) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| credentials.trim())
        });
    match given {
        Some(given) if same_token(given.as_bytes(), token.expose().as_bytes()) => {
            next.run(request).await
        }
        Some(_) => Problem::unauthorized("the bearer token is not valid").into_response(),
        None => Problem::unauthorized("this API requires `Authorization: Bearer <token>`")
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_value() {
        assert!(same_token(b"abc", b"abc"));
        assert!(!same_token(b"abc", b"abd"));
        assert!(!same_token(b"abc", b"abcd"));
        assert!(!same_token(b"", b"abc"));
    }
}
