//! Configuration of the MongoDB backend: a plain struct, filled by the factory from
//! `MONGODB_URL`, `MONGODB_DATABASE` and `MONGODB_TIMEOUT_MS`.

use std::fmt;
use std::time::Duration;

use cityflow_core::redact_url;

/// Where and how to reach MongoDB.
#[derive(Clone, PartialEq, Eq)]
pub struct MongoConfig {
    /// Connection string; may hold a password, never printed (see [`MongoConfig::redacted_url`]).
    pub url: String,
    pub database: String,
    /// Collection of the reports (`reports`, as the seed).
    pub collection: String,
    /// Bound on server selection and on connecting; operations get a deadline derived from it.
    pub timeout: Duration,
}

impl MongoConfig {
    pub const DEFAULT_COLLECTION: &'static str = "reports";
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// `url` and `database` with the default collection and timeout.
    pub fn new(url: impl Into<String>, database: impl Into<String>) -> Self {
        MongoConfig {
            url: url.into(),
            database: database.into(),
            collection: Self::DEFAULT_COLLECTION.to_string(),
            timeout: Self::DEFAULT_TIMEOUT,
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
