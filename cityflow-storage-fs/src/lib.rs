//! # cityflow-storage-fs
//!
//! The local-filesystem backend of CityFlow: [`FsBlobSink`] writes the CSV report (and any
//! blob) under a root directory, [`FsReportStore`] keeps one pretty-printed JSON envelope per
//! date (`daily_report_D.json`). This is the embedded default, so a fresh machine works with
//! no server at all.
//!
//! Every write is atomic: the bytes go to a staging file in the destination's directory,
//! are flushed to disk (`fsync`), then renamed over the destination, and the directory is
//! synced. A crash at any point leaves the previous complete file or the new complete file,
//! never a half-written one; concurrent writers of the same key each rename a complete file,
//! the last one wins.
//!
//! ```no_run
//! # async fn demo() -> cityflow_core::Result<()> {
//! use cityflow_core::{BlobSinkExt, DailyReport, ReportStoreExt, Timestamp, render_csv};
//! use cityflow_storage_fs::{FsBlobSink, FsReportStore};
//!
//! let report = DailyReport::empty("2025-11-04".parse().unwrap(), Timestamp::now());
//! let csv = FsBlobSink::new("output/reports").put_report_csv(report.date, render_csv(&report)).await?;
//! let json = FsReportStore::new("output/reports").put_report(&report, Timestamp::now()).await?;
//! println!("{csv} {json}");
//! # Ok(()) }
//! ```

mod atomic;
mod blob_sink;
mod config;
mod input_source;
mod report_store;
mod summary_index;

pub use blob_sink::FsBlobSink;
pub use config::FsConfig;
pub use input_source::FsInputSource;
pub use report_store::FsReportStore;
