//! The API's settings, from an environment map: no I/O, validated when built.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use axum::http::HeaderValue;
use cityflow_core::{Error, Result};

/// The variables `cityflow serve` and the API's Lambda function read.
pub const API_VARIABLES: &[&str] = &[
    "CITYFLOW_API_BIND",
    "CITYFLOW_API_TOKEN",
    "CITYFLOW_API_CORS_ORIGINS",
    "CITYFLOW_API_TIMEOUT_MS",
    "CITYFLOW_API_STORE_TIMEOUT_MS",
    "CITYFLOW_API_MAX_CONCURRENCY",
];

/// A bearer token; never shown by `Debug`.
#[derive(Clone)]
pub struct ApiToken(String);

impl ApiToken {
    /// The token's text, for comparing (see `auth`).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

/// How the API serves: access rules, limits and timeouts.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `CITYFLOW_API_BIND` (default `127.0.0.1:8080`): where `cityflow serve` listens.
    pub bind: String,
    /// `CITYFLOW_API_TOKEN`: when set, every route but `/health` and `/ready` requires
    /// `Authorization: Bearer <token>`.
    pub token: Option<ApiToken>,
    /// `CITYFLOW_API_CORS_ORIGINS` (comma list): the origins allowed to read with CORS.
    pub cors_origins: Vec<HeaderValue>,
    /// `CITYFLOW_API_TIMEOUT_MS` (default 10 000): the whole request's deadline (503 after).
    pub request_timeout: Duration,
    /// `CITYFLOW_API_STORE_TIMEOUT_MS` (default 3 000): the deadline of each read of the
    /// report store, and of `/ready`'s check.
    pub store_timeout: Duration,
    /// `CITYFLOW_API_MAX_CONCURRENCY` (default 512): requests handled at once; more wait.
    pub max_concurrency: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            bind: "127.0.0.1:8080".to_string(),
            token: None,
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(10),
            store_timeout: Duration::from_secs(3),
            max_concurrency: 512,
        }
    }
}

fn get<'e>(env: &'e BTreeMap<String, String>, name: &str) -> Option<&'e str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn positive(env: &BTreeMap<String, String>, name: &str, default: u64) -> Result<u64> {
    match get(env, name) {
        None => Ok(default),
        Some(text) => {
            text.parse::<u64>().ok().filter(|v| *v > 0).ok_or_else(|| {
                Error::config(name, format!("{text:?} is not a positive whole number"))
            })
        }
    }
}

impl ApiConfig {
    /// Reads the `CITYFLOW_API_*` variables of `env`; values are trimmed and an empty value
    /// counts as unset. A value that cannot be used is an error naming its variable (the
    /// token's value is never repeated).
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Self> {
        let defaults = ApiConfig::default();
        let bind = get(env, "CITYFLOW_API_BIND")
            .map(str::to_string)
            .unwrap_or(defaults.bind);
        let token = match get(env, "CITYFLOW_API_TOKEN") {
            None => None,
            Some(t) if t.chars().all(|c| c.is_ascii_graphic()) => Some(ApiToken(t.to_string())),
            Some(_) => {
                return Err(Error::config(
                    "CITYFLOW_API_TOKEN",
                    "must be printable ASCII without spaces (it travels in an HTTP header)",
                ))
            }
        };
        let mut cors_origins = Vec::new();
        if let Some(list) = get(env, "CITYFLOW_API_CORS_ORIGINS") {
            for origin in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                let value = Some(origin.trim_end_matches('/'))
                    .filter(|o| is_origin(o))
                    .and_then(|o| HeaderValue::from_str(o).ok())
                    .ok_or_else(|| {
                        Error::config(
                            "CITYFLOW_API_CORS_ORIGINS",
                            format!("{origin:?} is not an origin (expected scheme://host[:port], e.g. https://dashboard.example.org)"),
                        )
                    })?;
                cors_origins.push(value);
            }
        }
        Ok(ApiConfig {
            bind,
            token,
            cors_origins,
            request_timeout: Duration::from_millis(positive(
                env,
                "CITYFLOW_API_TIMEOUT_MS",
                10_000,
            )?),
            store_timeout: Duration::from_millis(positive(
                env,
                "CITYFLOW_API_STORE_TIMEOUT_MS",
                3_000,
            )?),
            max_concurrency: positive(env, "CITYFLOW_API_MAX_CONCURRENCY", 512)? as usize,
        })
    }

    /// Each of [`API_VARIABLES`] with the value in effect, for `cityflow env`: defaults
    /// applied, the token shown as `***` when set (never its value).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let origins: Vec<&str> = self
            .cors_origins
            .iter()
            .filter_map(|o| o.to_str().ok())
            .collect();
        vec![
            ("CITYFLOW_API_BIND", self.bind.clone()),
            (
                "CITYFLOW_API_TOKEN",
                self.token.as_ref().map_or("", |_| "***").to_string(),
            ),
            ("CITYFLOW_API_CORS_ORIGINS", origins.join(",")),
            (
                "CITYFLOW_API_TIMEOUT_MS",
                self.request_timeout.as_millis().to_string(),
            ),
            (
                "CITYFLOW_API_STORE_TIMEOUT_MS",
                self.store_timeout.as_millis().to_string(),
            ),
            (
                "CITYFLOW_API_MAX_CONCURRENCY",
                self.max_concurrency.to_string(),
            ),
        ]
    }
}

/// `scheme://host[:port]` with nothing after: what browsers send in `Origin`.
fn is_origin(text: &str) -> bool {
    let text = text.trim_end_matches('/');
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_variables() {
        let c = ApiConfig::from_env(&env(&[])).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert!(c.token.is_none() && c.cors_origins.is_empty());
        assert_eq!(c.store_timeout, Duration::from_secs(3));
    }

    #[test]
    fn the_token_is_never_printed() {
        let c = ApiConfig::from_env(&env(&[("CITYFLOW_API_TOKEN", " s3cr3t-value ")])).unwrap();
        assert_eq!(c.token.as_ref().unwrap().expose(), "s3cr3t-value");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let e = ApiConfig::from_env(&env(&[("CITYFLOW_API_TOKEN", "two words")])).unwrap_err();
        assert!(!e.to_string().contains("two words"), "{e}");
        assert!(e.to_string().contains("CITYFLOW_API_TOKEN"), "{e}");
    }

    #[test]
    fn cors_origins_are_checked() {
        let c = ApiConfig::from_env(&env(&[(
            "CITYFLOW_API_CORS_ORIGINS",
            "https://a.example, http://localhost:3000/",
        )]))
        .unwrap();
        assert_eq!(
            c.cors_origins,
            ["https://a.example", "http://localhost:3000"]
        );
        for bad in ["a.example", "https://a.example/path", "ftp://x", "https://"] {
            let e = ApiConfig::from_env(&env(&[("CITYFLOW_API_CORS_ORIGINS", bad)])).unwrap_err();
            assert!(
                e.to_string().contains("CITYFLOW_API_CORS_ORIGINS"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn numbers_must_be_positive() {
        for bad in ["0", "-1", "ten"] {
            let e = ApiConfig::from_env(&env(&[("CITYFLOW_API_TIMEOUT_MS", bad)])).unwrap_err();
            assert!(e.to_string().contains("CITYFLOW_API_TIMEOUT_MS"), "{e}");
        }
    }
}
