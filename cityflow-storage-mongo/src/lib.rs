//! # cityflow-storage-mongo
//!
//! The MongoDB backend of CityFlow: [`MongoReportStore`] keeps one document per date in the
//! collection `reports` of `MONGODB_DATABASE`, in the seed's shape:
//!
//! ```text
//! {_id: ObjectId, report_id: "daily_report_D", date: "D", timestamp: "RFC 3339", report: {…}}
//! ```
//!
//! - Unique indexes on `date` and `report_id`, created idempotently on first use and by
//!   [`MongoReportStore::ensure_indexes`] (`cityflow setup`).
//! - Saving a date again replaces its document (upsert keyed by `date`): one document per
//!   date, however many runs, concurrent ones included — a concurrent upsert that loses the
//!   race on the unique index is retried as the replacement it then is.
//! - Nothing is contacted at construction; the client connects on first use. Every operation
//!   is attempted up to [`MongoConfig::max_attempts`] times (default 3) with exponential
//!   backoff, each attempt with its own deadline ([`MongoConfig::timeout`], default 3 s, for
//!   server selection and connection, plus 1 s), so an unreachable server fails within
//!   [`RetryPolicy::worst_case`] (12.6 s by default) and a brief outage is ridden out.
//! - Driver errors map to the core kinds: unreachable → `Unavailable` (retryable), duplicate
//!   key → `AlreadyExists`, over 16 MB → `TooLarge` (checked before sending, with the size),
//!   authentication → `Config`. Passwords never appear in messages, logs or `Debug`.

mod config;
mod error;
mod report_store;
mod retry;

pub use config::MongoConfig;
pub use report_store::{IndexSetup, MongoReportStore};
pub use retry::RetryPolicy;
