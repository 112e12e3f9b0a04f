//! # cityflow-core
//!
//! The heart of CityFlow Reports, Paris's daily road-traffic report:
//!
//! - [`model`]: the report ([`DailyReport`]) with the exact JSON keys of the existing reports,
//!   and the envelope every store saves ([`StoredReport`]);
//! - [`store`]: the object-safe storage traits [`ReportStore`] (JSON documents by date) and
//!   [`BlobSink`] (CSV and other blobs by key), with their extension traits;
//! - [`error`]: the one error type, whose [`ErrorKind`] tells callers what to do;
//! - [`render`]: the CSV rendering;
//! - [`generate`]: building a report from the old tool's metrics files.
//!
//! Backends live in their own crates (`cityflow-storage-fs`, `-mongo`, `-aws`); the
//! `cityflow-storage` factory picks them from the environment.
//!
//! ```
//! use cityflow_core::{render_csv, DailyReport, Timestamp};
//! let date = "2025-11-04".parse().unwrap();
//! let report = DailyReport::empty(date, Timestamp::now());
//! assert!(render_csv(&report).starts_with("Section;Valeur\n"));
//! ```

pub mod aws_settings;
pub mod error;
pub mod evolution;
pub mod fr;
pub mod generate;
pub mod model;
pub mod render;
pub mod store;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "test-servers")]
pub mod test_servers;

pub use aws_settings::{AwsSettings, StaticCredentials};
pub use error::{redact_url, BoxError, Error, ErrorKind, Result};
pub use generate::{
    add_metrics_sections, file_version, generate_from_metrics, generate_from_metrics_dir,
    generate_from_source, generate_kinds_from_source, read_metrics_file, Generated, MetricsInput,
    MetricsKind, MetricsSections,
};
pub use model::{
    parse_date, report_id, ArcStats, BuiltFromSummary, CongestionAlert, DailyReport, Evolution,
    FailingSensor, InputVersion, Provenance, ReportSummary, Roadwork, SectionFrom, SectionOrigin,
    SensorKind, Severity, StoredReport, Summary, Timestamp, WeatherImpact, ZoneEntry, ZoneStats,
    MAX_ALERTS, TOP_N,
};
pub use render::render_csv;
pub use store::{
    months_of, BlobKey, BlobSink, BlobSinkExt, DateRange, InputData, InputLocation, InputSource,
    InputStream, ListedInput, NoSetupProgress, ReportStore, ReportStoreExt, SetupAction,
    SetupProgress, SummaryQuery, CSV_CONTENT_TYPE, MAX_SUMMARY_PAGE,
};
