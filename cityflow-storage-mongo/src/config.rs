//! Configuration of the MongoDB backend: a plain struct, filled by the factory from
//! `MONGODB_URL`, `MONGODB_DATABASE`, `MONGODB_TIMEOUT_MS` and `MONGODB_MAX_ATTEMPTS`.

use std::fmt;
use std::time::Duration;

use cityflow_core::redact_url;

use crate::retry::RetryPolicy;

/// Where and how to reach MongoDB.
#[derive(Clone, PartialEq, Eq)]
pub struct MongoConfig {
    /// Connection string; may hold a password, never printed (see [`MongoConfig::redacted_url`]).
    pub url: String,
    pub database: String,
    /// Collection of the reports (`reports`, as the seed).
    pub collection: String,
    /// Bound on server selection and on connecting, in each attempt; each attempt gets a
    /// deadline of this plus 1 s (see [`MongoConfig::retry_policy`]).
    pub timeout: Duration,
    /// Attempts per operation, the first included: transient failures (unreachable, timed
    /// out) are retried with exponential backoff.
    pub max_attempts: u32,
}

impl MongoConfig {
    pub const DEFAULT_COLLECTION: &'static str = "reports";
    /// 3 s per attempt × 3 attempts, plus backoff, keeps an unreachable server's failure
    /// under 15 s (12.6 s at worst).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

    /// `url` and `database` with the default collection and timeout.
    pub fn new(url: impl Into<String>, database: impl Into<String>) -> Self {
        MongoConfig {
            url: url.into(),
            database: database.into(),
            collection: Self::DEFAULT_COLLECTION.to_string(),
            timeout: Self::DEFAULT_TIMEOUT,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// How each operation is attempted: `max_attempts` attempts, each cut at `timeout` + 1 s
    /// (server selection is bounded by `timeout`; the extra second lets a selected server
    /// answer, and bounds one that accepted the connection and never answers), with
    /// backoffs of 200 ms, 400 ms, … (at most 2 s) between them.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts.max(1),
            attempt_timeout: self.timeout + Duration::from_secs(1),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    /// The password of the URL, if any: scrubbed from every message we produce, in case a
    /// driver message ever echoes it.
    pub(crate) fn password(&self) -> Option<String> {
        let rest = self.url.split_once("://")?.1;
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        let userinfo = &authority[..authority.rfind('@')?];
        let password = userinfo.split_once(':')?.1;
        (!password.is_empty()).then(|| password.to_string())
    }
}

impl fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoConfig")
            .field("url", &self.redacted_url())
            .field("database", &self.database)
            .field("collection", &self.collection)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let c = MongoConfig::new("mongodb://u:hunter2@h:27017/?authSource=admin", "cityflow");
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("u:***@h:27017"), "{debug}");
        assert_eq!(c.password().as_deref(), Some("hunter2"));
        assert_eq!(MongoConfig::new("mongodb://h/", "x").password(), None);
    }
}
