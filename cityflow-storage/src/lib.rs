//! # cityflow-storage
//!
//! The factory that reads the environment and returns where the report goes: the Rust twin
//! of the old tool's `get_database_service()`, without its silent fallbacks.
//!
//! It works in two steps, so that the decision can be tested without any server:
//!
//! 1. [`StorageConfig::from_env`] — a pure function from environment variables to a plan:
//!    the [`Mode`], where the CSV goes ([`CsvBackend`]), where the JSON goes
//!    ([`JsonBackend`]), and each backend's settings, validated. No I/O, no network.
//! 2. [`build`] — turns the plan into `Arc<dyn ReportStore>` + `Arc<dyn BlobSink>`. Backends
//!    connect lazily, on first use; a backend that is not compiled in is a configuration
//!    error naming the cargo feature.
//!
//! ## Decision table
//!
//! | `AWS_EXECUTION_ENV` | `USE_S3` | `USE_DYNAMODB` | `DATABASE_TYPE` | mode | CSV | JSON |
//! |---|---|---|---|---|---|---|
//! | set, non-empty | any | any | any | AWS | S3 | DynamoDB |
//! | unset or empty | `true` | | | Local | S3 | by `DATABASE_TYPE` |
//! | unset or empty | `false`/unset | | | Local | `$OUTPUT_DIR/reports` | by `DATABASE_TYPE` |
//! | unset or empty | | `true` | any | Local | (as above) | DynamoDB |
//! | unset or empty | | `false`/unset | `mongodb` / `dynamodb` / `file` | Local | (as above) | that one |
//! | unset or empty | | `false`/unset | unset or empty | Local | (as above) | file |
//!
//! An unknown value of `DATABASE_TYPE`, `USE_S3` or `USE_DYNAMODB` is an error listing the
//! valid ones.
//!
//! ```
//! use std::collections::BTreeMap;
//! use cityflow_storage::{StorageConfig, Mode, JsonBackend, CsvBackend};
//!
//! let env = BTreeMap::from([("AWS_EXECUTION_ENV".to_string(), "AWS_Lambda_rust".to_string())]);
//! let cfg = StorageConfig::from_env(&env).unwrap();
//! assert_eq!((cfg.mode, cfg.csv, cfg.json), (Mode::Aws, CsvBackend::S3, JsonBackend::DynamoDb));
//! ```

mod config;
mod env;
mod factory;

pub use config::{
    AwsSettings, CsvBackend, JsonBackend, Mode, MongoSettings, StorageConfig, VariableReport,
};
pub use env::{load_env, EnvMap};
pub use factory::{build, Storage};

/// The README's Rust examples, compiled as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
