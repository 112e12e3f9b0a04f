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
//! The mode ([`decide_mode`]): `CITYFLOW_ENV` (`aws` | `local`, trimmed, case-insensitive)
//! when set; else AWS when any of `AWS_EXECUTION_ENV`, `AWS_LAMBDA_FUNCTION_NAME`,
//! `AWS_LAMBDA_RUNTIME_API` is set and non-empty (the last two are what a Rust function on
//! `provided.al2023` gets); else local. Then:
//!
//! | mode | `USE_S3` | `USE_DYNAMODB` | `DATABASE_TYPE` | CSV | JSON |
//! |---|---|---|---|---|---|
//! | AWS | any | any | any | S3 | DynamoDB |
//! | local | `true` | | | S3 | by `DATABASE_TYPE` |
//! | local | `false`/unset | | | `$OUTPUT_DIR/reports` | by `DATABASE_TYPE` |
//! | local | | `true` | any | (as above) | DynamoDB |
//! | local | | `false`/unset | `mongodb` / `dynamodb` / `file` | (as above) | that one |
//! | local | | `false`/unset | unset or empty | (as above) | file |
//!
//! An unknown value of `CITYFLOW_ENV`, `DATABASE_TYPE`, `USE_S3` or `USE_DYNAMODB` is an
//! error listing the valid ones.
//!
//! ```
//! use std::collections::BTreeMap;
//! use cityflow_storage::{StorageConfig, Mode, JsonBackend, CsvBackend};
//!
//! let env = BTreeMap::from([("AWS_LAMBDA_FUNCTION_NAME".to_string(), "cityflow-report".to_string())]);
//! let cfg = StorageConfig::from_env(&env).unwrap();
//! assert_eq!((cfg.mode, cfg.csv, cfg.json), (Mode::Aws, CsvBackend::S3, JsonBackend::DynamoDb));
//! ```

mod config;
mod env;
mod factory;

pub use cityflow_core::AwsSettings;
pub use config::{
    decide_mode, CsvBackend, JsonBackend, Mode, ModeReason, MongoSettings, StorageConfig,
    VariableReport, AWS_MARKERS,
};
pub use env::{load_env, EnvMap};
pub use factory::{build, input_source, Storage};

/// The README's Rust examples, compiled as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../docs/library.md")]
pub struct ReadmeDoctests;
