//! The one error type of the CityFlow libraries.
//!
//! Every variant names its `target` (a file, a directory, a bucket, a database, an
//! environment variable) so that a message read in a log at 6 a.m. says *where* things went
//! wrong. Targets are built by the backends from redacted descriptions (see
//! [`redact_url`]): no variant ever carries a password or a secret key.

use std::fmt;

/// A boxed source error, kept for `Error::source()` chains.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used across the CityFlow crates.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a caller can do about an error; see [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The report, blob or input file does not exist.
    NotFound,
    /// Creating something that is already there (for example a bucket owned by someone else).
    AlreadyExists,
    /// The payload exceeds a hard limit of the target (DynamoDB's 400 KB, MongoDB's 16 MB).
    TooLarge,
    /// The target could not be reached or answered with a transient failure: retrying later
    /// may succeed.
    Unavailable,
    /// The caller's input is wrong (a date, a key, a malformed metrics file).
    InvalidInput,
    /// The configuration is wrong or incomplete (an unknown `DATABASE_TYPE`, a backend that
    /// was not compiled in).
    Config,
    /// Anything else the backend reported; not retryable as such.
    Backend,
    /// The write was refused because the target holds a report built from newer inputs
    /// (see [`crate::StoredReport::may_replace`]): nothing to do, not a failure.
    Superseded,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::TooLarge => "too large",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Config => "configuration",
            ErrorKind::Backend => "backend",
            ErrorKind::Superseded => "superseded",
        })
    }
}

/// The error type of every CityFlow library crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing asked for does not exist at the target.
    #[error("{what} not found in {target}")]
    NotFound { target: String, what: String },

    /// The thing to create already exists at the target.
    #[error("{what} already exists in {target}")]
    AlreadyExists { target: String, what: String },

    /// The payload is larger than the target accepts.
    #[error("{what} is too large for {target}: {size} bytes, the limit is {limit} bytes")]
    TooLarge {
        target: String,
        what: String,
        size: u64,
        limit: u64,
    },

    /// The target could not be reached, timed out, or answered with a transient failure.
    #[error("{target} unavailable: {message}")]
    Unavailable {
        target: String,
        message: String,
        #[source]
        source: Option<BoxError>,
    },

    /// The input given by the caller is not acceptable.
    #[error("{target}: {message}")]
    InvalidInput { target: String, message: String },

    /// The configuration is wrong; `target` names the variable or setting.
    #[error("{target}: {message}")]
    Config { target: String, message: String },

    /// The target holds a report of the same day built from newer inputs: the write was
    /// refused, the newer report kept.
    #[error("{target} keeps the report for {date}, built from newer inputs (modified {stored_newest_ms} ms > {newest_ms} ms since the epoch)")]
    Superseded {
        target: String,
        date: chrono::NaiveDate,
        /// The newest input modification time of the refused report.
        newest_ms: i64,
        /// That of the stored one.
        stored_newest_ms: i64,
    },

    /// Any other failure reported by the backend.
    #[error("{target}: {message}")]
    Backend {
        target: String,
        message: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// The kind of this error, for callers that decide what to do next.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Config { .. } => ErrorKind::Config,
            Error::Backend { .. } => ErrorKind::Backend,
            Error::Superseded { .. } => ErrorKind::Superseded,
        }
    }

    /// True when trying the same operation again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Unavailable
    }

    /// True for errors caused by the caller's input or configuration rather than by a target
    /// (the CLI maps these to exit code 2).
    pub fn is_caller_error(&self) -> bool {
        matches!(self.kind(), ErrorKind::InvalidInput | ErrorKind::Config)
    }

    /// The target named by this error.
    pub fn target(&self) -> &str {
        match self {
            Error::NotFound { target, .. }
            | Error::AlreadyExists { target, .. }
            | Error::TooLarge { target, .. }
            | Error::Unavailable { target, .. }
            | Error::InvalidInput { target, .. }
            | Error::Config { target, .. }
            | Error::Superseded { target, .. }
            | Error::Backend { target, .. } => target,
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(target: impl Into<String>, what: impl Into<String>) -> Self {
        Error::NotFound {
            target: target.into(),
            what: what.into(),
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid_input(target: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            target: target.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Config`].
    pub fn config(target: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            target: target.into(),
            message: message.into(),
        }
    }

    /// The error of a store that keeps `stored` rather than `refused` (see
    /// [`crate::StoredReport::may_replace`]).
    pub fn superseded(
        target: impl Into<String>,
        refused: &crate::StoredReport,
        stored: &crate::StoredReport,
    ) -> Self {
        let newest =
            |r: &crate::StoredReport| r.built_from.as_ref().map_or(0, |p| p.newest_modified_ms);
        Error::Superseded {
            target: target.into(),
            date: refused.date,
            newest_ms: newest(refused),
            stored_newest_ms: newest(stored),
        }
    }

    /// Shorthand for [`Error::Backend`] with a source.
    pub fn backend(
        target: impl Into<String>,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Backend {
            target: target.into(),
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// Shorthand for [`Error::Unavailable`] with a source.
    pub fn unavailable(
        target: impl Into<String>,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Unavailable {
            target: target.into(),
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

/// Returns `url` with any password (and any `password=`/`secret`-like query value) replaced
/// by `***`, for use in targets, logs and `Debug` output.
///
/// `mongodb://alice:s3cret@db:27017/?authSource=admin` becomes
/// `mongodb://alice:***@db:27017/?authSource=admin`. Text that is not a URL is returned with
/// the same rule applied to anything that looks like `user:password@`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => ("", url),
    };
    // The authority ends at the first '/', '?' or '#'; user info is what precedes its last '@'.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let host = &authority[at..];
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{}", &userinfo[..colon], host),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    let tail = redact_query_secrets(tail);
    format!("{scheme}{authority}{tail}")
}

/// Query parameters whose value is a credential in the URLs we accept.
const SECRET_QUERY_KEYS: &[&str] = &[
    "password",
    "pwd",
    "secret",
    "token",
    "authmechanismproperties",
    "tlscertificatekeyfilepassword",
];

fn redact_query_secrets(tail: &str) -> String {
    let Some(q) = tail.find('?') else {
        return tail.to_string();
    };
    let (path, query) = tail.split_at(q + 1);
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_QUERY_KEYS.contains(&k.to_ascii_lowercase().as_str()) => {
                format!("{k}=***")
            }
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password_in_userinfo() {
        assert_eq!(
            redact_url("mongodb://alice:s3cret@db.example:27017/cityflow?authSource=admin"),
            "mongodb://alice:***@db.example:27017/cityflow?authSource=admin"
        );
    }

    #[test]
    fn redacts_password_containing_at_sign() {
        assert_eq!(
            redact_url("mongodb://alice:p@ss@db:27017/"),
            "mongodb://alice:***@db:27017/"
        );
    }

    #[test]
    fn keeps_urls_without_secrets() {
        assert_eq!(
            redact_url("mongodb://localhost:27017/"),
            "mongodb://localhost:27017/"
        );
        assert_eq!(
            redact_url("mongodb://bob@localhost/"),
            "mongodb://bob@localhost/"
        );
    }

    #[test]
    fn redacts_secret_query_values() {
        assert_eq!(
            redact_url("mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:abc&w=1"),
            "mongodb://h/?authMechanismProperties=***&w=1"
        );
    }

    #[test]
    fn messages_name_the_target() {
        let e = Error::not_found("output/reports", "report for 2025-11-04");
        assert_eq!(
            e.to_string(),
            "report for 2025-11-04 not found in output/reports"
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(!e.is_retryable());
        let e = Error::Unavailable {
            target: "MongoDB at mongodb://h:1/".into(),
            message: "timed out".into(),
            source: None,
        };
        assert!(e.is_retryable());
        assert!(e.to_string().contains("mongodb://h:1/"));
    }
}
