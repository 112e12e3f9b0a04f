//! Driver errors → core error kinds, with secrets scrubbed.

use cityflow_core::Error;
use mongodb::error::{ErrorKind as K, WriteFailure};

/// Server error codes we act on.
const DUPLICATE_KEY: i32 = 11000;
const BSON_OBJECT_TOO_LARGE: i32 = 10334;

/// Maps `e`, raised while doing `what` on `target`, to a core error; `password` is replaced
/// by `***` wherever the driver's text would show it.
pub(crate) fn map_error(
    e: mongodb::error::Error,
    target: &str,
    what: &str,
    timeout: std::time::Duration,
    password: Option<&str>,
) -> Error {
    let scrub = |text: String| match password {
        Some(p) if !p.is_empty() => text.replace(p, "***"),
        _ => text,
    };
    let detail = scrub(e.to_string());
    let target = target.to_string();
    let retryable_label =
        e.contains_label("RetryableWriteError") || e.contains_label("TransientTransactionError");
    match e.kind.as_ref() {
        K::ServerSelection { .. } => Error::Unavailable {
            target,
            message: format!(
                "unreachable: no usable server answered within {} s while trying to {what} ({detail})",
                timeout.as_secs_f64()
            ),
            source: None,
        },
        K::Io(_) | K::ConnectionPoolCleared { .. } | K::DnsResolve { .. } => Error::Unavailable {
            target,
            message: format!("network error while trying to {what}: {detail}"),
            source: None,
        },
        K::Authentication { .. } => Error::config(
            format!("MONGODB_URL ({target})"),
            format!("authentication failed while trying to {what}: {detail}"),
        ),
        K::Write(WriteFailure::WriteError(w)) if w.code == DUPLICATE_KEY => Error::AlreadyExists {
            target,
            what: format!("{what}: duplicate key ({detail})"),
        },
        K::Command(c) if c.code == BSON_OBJECT_TOO_LARGE => Error::Backend {
            target,
            message: format!("the server refused a document as too large while trying to {what}: {detail}"),
            source: None,
        },
        K::InvalidArgument { .. } => Error::config(
            format!("MONGODB_URL ({target})"),
            format!("cannot {what}: {detail}"),
        ),
        _ if retryable_label => Error::Unavailable {
            target,
            message: format!("transient failure while trying to {what}: {detail}"),
            source: None,
        },
        _ => Error::Backend {
            target,
            message: format!("cannot {what}: {detail}"),
            source: None,
        },
    }
}
