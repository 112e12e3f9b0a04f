//! The two storage abstractions every backend implements.
//!
//! - [`ReportStore`]: JSON report documents, one per date (files, MongoDB, DynamoDB).
//! - [`BlobSink`]: opaque blobs by key (the CSV in a directory or in S3).
//!
//! Both traits are small and object-safe, so callers hold `Arc<dyn ReportStore>` and
//! `Arc<dyn BlobSink>` chosen at run time by the factory; conveniences live in the extension
//! traits [`ReportStoreExt`] and [`BlobSinkExt`], implemented for every store.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::NaiveDate;

use crate::error::{Error, ErrorKind, Result};
use crate::model::{DailyReport, ReportSummary, StoredReport, Timestamp};

/// An inclusive range of dates; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The calendar months of `from..=to`, each cut to the range: `(first day, last day)`, in
/// order; every day of the range is in exactly one. How a long backfill is fanned out (one
/// invocation a month). Empty when `from > to`.
pub fn months_of(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    use chrono::{Datelike, Months};
    let mut months = Vec::new();
    let mut start = from;
    while start <= to {
        let first_of_month = start.with_day(1).expect("day 1 exists");
        let last_of_month = first_of_month
            .checked_add_months(Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(NaiveDate::MAX);
        let end = last_of_month.min(to);
        months.push((start, end));
        match end.succ_opt() {
            Some(next) => start = next,
            None => break,
        }
    }
    months
}

impl DateRange {
    /// Every date.
    pub const ALL: DateRange = DateRange {
        from: None,
        to: None,
    };

    /// `from..=to`, either end open; an inverted range is invalid input.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self> {
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(Error::invalid_input(
                    "date range",
                    format!("--from {f} is after --to {t}"),
                ));
            }
        }
        Ok(DateRange { from, to })
    }

    /// Whether `date` lies in the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| date >= f) && self.to.is_none_or(|t| date <= t)
    }
}

/// Which summaries [`ReportStore::summaries`] returns: those of `range`, in date order (newest
/// first when asked), at most `limit`. The next page is the same query with the range cut
/// after (or before, newest first) the last date returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryQuery {
    pub range: DateRange,
    /// At least 1; stores may cap a page at [`MAX_SUMMARY_PAGE`].
    pub limit: usize,
    pub newest_first: bool,
}

/// The most summaries one call of [`ReportStore::summaries`] returns.
pub const MAX_SUMMARY_PAGE: usize = 1000;

impl SummaryQuery {
    /// The first `limit` summaries of `range`, oldest first.
    pub fn oldest_first(range: DateRange, limit: usize) -> Self {
        SummaryQuery {
            range,
            limit,
            newest_first: false,
        }
    }

    /// The `limit` most recent summaries of `range`, newest first.
    pub fn newest_first(range: DateRange, limit: usize) -> Self {
        SummaryQuery {
            range,
            limit,
            newest_first: true,
        }
    }

    /// The limit a store applies: between 1 and [`MAX_SUMMARY_PAGE`].
    pub fn page_size(&self) -> usize {
        self.limit.clamp(1, MAX_SUMMARY_PAGE)
    }

    /// The query of the page after one whose last summary was of `last`; `None` when the
    /// range ends there.
    pub fn after(&self, last: NaiveDate) -> Option<SummaryQuery> {
        let mut next = *self;
        if self.newest_first {
            next.range.to = Some(last.pred_opt()?);
        } else {
            next.range.from = Some(last.succ_opt()?);
        }
        if let (Some(f), Some(t)) = (next.range.from, next.range.to) {
            if f > t {
                return None;
            }
        }
        Some(next)
    }
}

/// Where JSON reports are kept: one document per date, saved by upsert.
///
/// Implementations must make `put` idempotent (saving a date again replaces the previous
/// document: one document per date, however many runs, concurrent or not), all-or-nothing
/// (a failed or interrupted `put` leaves the previous document or none, never a partial one)
/// and ordered by inputs: a `put` whose envelope may not replace the stored one
/// ([`StoredReport::may_replace`]: the stored report was built from newer inputs) is refused
/// with [`Error::Superseded`], atomically with the comparison (a condition of the write, not
/// a read before it), so that after any interleaving the newest inputs win.
#[async_trait]
pub trait ReportStore: Send + Sync + fmt::Debug {
    /// Saves the report of `report.date`, replacing any previous one. Returns where it went,
    /// as users will see it (a path, `mongodb://…/cityflow.reports/daily_report_D`, …).
    async fn put(&self, report: &StoredReport) -> Result<String>;

    /// The report of `date`; [`Error::NotFound`] when there is none.
    async fn get(&self, date: NaiveDate) -> Result<StoredReport>;

    /// The dates that have a report within `range`, sorted ascending.
    async fn list(&self, range: DateRange) -> Result<Vec<NaiveDate>>;

    /// The summaries of the reports `query` asks for, from the store's summary index, in
    /// date order (newest first when asked), at most [`SummaryQuery::page_size`]: never a
    /// whole report read, nor a scan of the store. Each summary is the one written with the
    /// report it describes, in the same write ([`ReportSummary::of`]).
    async fn summaries(&self, query: SummaryQuery) -> Result<Vec<ReportSummary>>;

    /// A token that changes whenever the report of `date` is written, when the store can
    /// tell much more cheaply than [`ReportStore::get`] (a file's inode, modification time
    /// and size); `None` when it cannot, or when there is no report. Readers that cache
    /// what they derive from a report (the HTTP API) key it by this token; with `None` they
    /// read the report. The default has no token.
    async fn version(&self, _date: NaiveDate) -> Result<Option<String>> {
        Ok(None)
    }

    /// A token that changes whenever any summary within `range` changes (a report of the
    /// range written, replaced or removed), when the store can tell much more cheaply than
    /// [`ReportStore::summaries`] (the files' year files: a `stat` each); `None` when it
    /// cannot, or cannot be sure at this moment (a write in progress). Readers that cache
    /// what they compute from summaries (the HTTP API's `/stats` and list) key it by this
    /// token, taken before they read; with `None` they read. The default has no token.
    async fn summaries_version(&self, _range: DateRange) -> Result<Option<String>> {
        Ok(None)
    }

    /// Removes the report of `date`. Removing a report that does not exist succeeds, so that
    /// deletes can be retried.
    async fn delete(&self, date: NaiveDate) -> Result<()>;

    /// A human description of the target for messages, secrets redacted
    /// (`directory output/reports`, `MongoDB mongodb://host:27017/ database cityflow`).
    fn describe(&self) -> String;

    /// Creates what the target needs (indexes, a table, a directory), idempotently, and says
    /// what it created and what already existed. [`ReportStore::setup_with_progress`],
    /// saying nothing of its progress.
    async fn setup(&self) -> Result<Vec<SetupAction>> {
        self.setup_with_progress(Arc::new(NoSetupProgress)).await
    }

    /// [`ReportStore::setup`], telling `progress` how far its long steps have gone (adding
    /// summaries to the reports stored before the summary index, one report at a time).
    /// Stores implement this one. The default has nothing to do.
    async fn setup_with_progress(
        &self,
        _progress: Arc<dyn SetupProgress>,
    ) -> Result<Vec<SetupAction>> {
        Ok(Vec::new())
    }
}

/// Where a long step of `setup` says how far it has gone: the CLI draws a progress bar,
/// [`NoSetupProgress`] says nothing.
pub trait SetupProgress: Send + Sync {
    /// A step over `total` reports begins; `what` says what it does, with its target.
    fn start(&self, _what: &str, _total: u64) {}
    /// One more report of the step is done.
    fn advance(&self) {}
    /// The step is over.
    fn finish(&self) {}
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSetupProgress;

impl SetupProgress for NoSetupProgress {}

/// One resource handled by `setup`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetupAction {
    /// What it is, with its target (`unique index date_unique on MongoDB …`).
    pub resource: String,
    /// True when this call created it, false when it already existed.
    pub created: bool,
}

impl SetupAction {
    pub fn created(resource: impl Into<String>) -> Self {
        SetupAction {
            resource: resource.into(),
            created: true,
        }
    }

    pub fn existing(resource: impl Into<String>) -> Self {
        SetupAction {
            resource: resource.into(),
            created: false,
        }
    }
}

/// Where blobs (the CSV report) are written, by key relative to the sink's root.
///
/// `put` replaces any previous blob with the same key and is all-or-nothing.
#[async_trait]
pub trait BlobSink: Send + Sync + fmt::Debug {
    /// Writes `bytes` at `key`; returns the location as users will see it
    /// (`output/reports/daily_report_2025-11-04.csv`, `s3://bucket/reports/…`).
    async fn put(&self, key: &BlobKey, bytes: Bytes, content_type: &str) -> Result<String>;

    /// The blob at `key`; [`Error::NotFound`] when there is none.
    async fn get(&self, key: &BlobKey) -> Result<Bytes>;

    /// Every key starting with `prefix` (plain string prefix), sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>>;

    /// Removes the blob at `key`; removing a missing blob succeeds.
    async fn delete(&self, key: &BlobKey) -> Result<()>;

    /// The location `put` would return for `key`, without touching the target.
    fn location(&self, key: &BlobKey) -> String;

    /// A human description of the target for messages, secrets redacted.
    fn describe(&self) -> String;

    /// Creates what the target needs (a bucket, a directory), idempotently; see
    /// [`ReportStore::setup`].
    async fn setup(&self) -> Result<Vec<SetupAction>> {
        Ok(Vec::new())
    }
}

/// Where inputs are read from: a directory or an object-store prefix holding the day's
/// metrics files, or the raw open-data export. Names are relative to the source's root.
#[async_trait]
pub trait InputSource: Send + Sync + fmt::Debug {
    /// The whole input `name` (a metrics file: small) and its version; `Ok(None)` when it
    /// does not exist.
    async fn read(&self, name: &str) -> Result<Option<InputData>>;

    /// Opens `name` to be streamed by a parser on its own thread (a raw export of several
    /// gigabytes): never the whole input in memory. A missing input is
    /// [`Error::InvalidInput`] (the caller named it); failures while reading come out of the reader as `io::Error`s
    /// whose inner error is an [`Error`] naming the source.
    async fn open(&self, name: &str) -> Result<InputStream>;

    /// Every input whose name starts with `prefix` (a plain string prefix of names relative
    /// to the root, `/`-separated: `api/bikes/dt=2025-11-04/`), sorted by name: what a
    /// directory of inputs or the old tool's `raw/` layout holds. A root that does not exist
    /// is [`Error::InvalidInput`]; a prefix that matches nothing is an empty list.
    async fn list(&self, prefix: &str) -> Result<Vec<ListedInput>>;

    /// Where `name` is, as users will see it (`metrics/bikes_metrics_D.json`,
    /// `s3://bucket/metrics/bikes_metrics_D.json`).
    fn location(&self, name: &str) -> String;

    /// A human description of the source for messages, secrets redacted.
    fn describe(&self) -> String;
}

/// One input found by [`InputSource::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedInput {
    /// Relative to the source's root, `/`-separated: what [`InputSource::read`] and
    /// [`InputSource::open`] take.
    pub name: String,
    pub size: u64,
    /// Last modification, milliseconds since 1970-01-01 UTC: "newest" means this.
    pub modified_ms: i64,
}

/// A whole input and the version that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputData {
    pub bytes: Bytes,
    pub version: crate::InputVersion,
}

/// An input opened for streaming: a blocking reader, its size when known, its version.
pub struct InputStream {
    pub reader: Box<dyn std::io::Read + Send>,
    /// Bytes in the input as stored (compressed bytes for gzip), for progress; 0 if unknown.
    pub size: u64,
    pub version: crate::InputVersion,
}

impl fmt::Debug for InputStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputStream")
            .field("size", &self.size)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Where inputs live, as users write it: a local directory, or `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(into = "String")]
pub enum InputLocation {
    Dir(std::path::PathBuf),
    /// An S3 bucket and a key prefix without leading or trailing `/` (may be empty).
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl InputLocation {
    /// `s3://bucket/prefix` (the prefix checked with the key rules of [`BlobKey`]), else a
    /// local path.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let Some(rest) = text.strip_prefix("s3://") else {
            if text.is_empty() {
                return Err("is empty".into());
            }
            return Ok(InputLocation::Dir(text.into()));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.');
        if !bucket_ok {
            return Err(format!(
                "{text:?}: {bucket:?} is not a valid bucket name (3-63 characters: a-z, 0-9, '-', '.')"
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        if !prefix.is_empty() {
            BlobKey::new(prefix).map_err(|e| format!("{text:?}: not a valid key prefix: {e}"))?;
        }
        Ok(InputLocation::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// One input given by its full location (`s3://bucket/dir/file.csv.gz`,
    /// `data/file.csv`): the location of its parent and its name within it.
    pub fn parse_file(text: &str) -> std::result::Result<(Self, String), String> {
        let (parent, name) = match text.rfind('/') {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => ("", text),
        };
        if name.is_empty() {
            return Err(format!("{text:?} names a directory, not a file"));
        }
        if text.starts_with("s3://") {
            if !parent["s3:/".len()..].contains('/') && parent.len() <= "s3:/".len() {
                return Err(format!("{text:?} has no object key"));
            }
            return Ok((Self::parse(parent)?, name.to_string()));
        }
        // A bare file name lives in the working directory, shown as given.
        let parent = if parent.is_empty() && !text.starts_with('/') {
            InputLocation::Dir(std::path::PathBuf::new())
        } else if parent.is_empty() {
            InputLocation::Dir("/".into())
        } else {
            InputLocation::Dir(parent.into())
        };
        Ok((parent, name.to_string()))
    }
}

impl fmt::Display for InputLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputLocation::Dir(p) => write!(f, "{}", p.display()),
            InputLocation::S3 { bucket, prefix } if prefix.is_empty() => {
                write!(f, "s3://{bucket}")
            }
            InputLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

impl From<InputLocation> for String {
    fn from(l: InputLocation) -> String {
        l.to_string()
    }
}

/// Conveniences over any [`ReportStore`].
#[async_trait]
pub trait ReportStoreExt: ReportStore {
    /// The report of `date`, or `None` when there is none.
    async fn get_opt(&self, date: NaiveDate) -> Result<Option<StoredReport>> {
        match self.get(date).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every summary of `range`, oldest first, read a page of [`MAX_SUMMARY_PAGE`] at a time
    /// and handed to `each` as it comes: memory bounded by a page, whatever the range.
    async fn for_each_summary(
        &self,
        range: DateRange,
        each: &mut (dyn FnMut(ReportSummary) + Send),
    ) -> Result<()> {
        let mut query = Some(SummaryQuery::oldest_first(range, MAX_SUMMARY_PAGE));
        while let Some(q) = query {
            let page = self.summaries(q).await?;
            let full = page.len() >= q.page_size();
            let last = page.last().map(|s| s.date);
            for summary in page {
                each(summary);
            }
            query = match (full, last) {
                (true, Some(last)) => q.after(last),
                _ => None,
            };
        }
        Ok(())
    }

    /// Wraps `report` in its envelope, stamped `exported_at`, and saves it.
    async fn put_report(&self, report: &DailyReport, exported_at: Timestamp) -> Result<String> {
        self.put(&StoredReport::new(report.clone(), exported_at))
            .await
    }
}

impl<T: ReportStore + ?Sized> ReportStoreExt for T {}

/// Conveniences over any [`BlobSink`].
#[async_trait]
pub trait BlobSinkExt: BlobSink {
    /// Writes the CSV report of `date` at `daily_report_D.csv`.
    async fn put_report_csv(&self, date: NaiveDate, csv: String) -> Result<String> {
        self.put(
            &BlobKey::report_csv(date),
            Bytes::from(csv),
            CSV_CONTENT_TYPE,
        )
        .await
    }

    /// The blob at `key`, or `None` when there is none.
    async fn get_opt(&self, key: &BlobKey) -> Result<Option<Bytes>> {
        match self.get(key).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl<T: BlobSink + ?Sized> BlobSinkExt for T {}

/// The content type of the CSV report.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// A validated blob key: a relative, `/`-separated path.
///
/// Rejected: the empty key, an absolute path, `.` or `..` components, empty components
/// (`a//b`), backslashes, NUL and other control characters. These rules make a key safe to
/// join to a directory and unambiguous as an S3 key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Validates `key`.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        let reject = |why: &str| {
            Err(Error::invalid_input(
                "blob key",
                format!("{:?} {why}", key.escape_debug().to_string()),
            ))
        };
        if key.is_empty() {
            return reject("is empty");
        }
        if key.len() > 1024 {
            return reject("is longer than 1024 bytes");
        }
        if key.starts_with('/') {
            return reject("is an absolute path; keys are relative to the sink's root");
        }
        if key.contains('\\') {
            return reject("contains a backslash");
        }
        if key.chars().any(|c| c.is_control()) {
            return reject("contains NUL or another control character");
        }
        for part in key.split('/') {
            match part {
                "" => return reject("has an empty path component"),
                "." | ".." => return reject("contains a `.` or `..` component"),
                _ => {}
            }
        }
        Ok(BlobKey(key))
    }

    /// `daily_report_YYYY-MM-DD.csv`.
    pub fn report_csv(date: NaiveDate) -> Self {
        BlobKey(format!("{}.csv", crate::model::report_id(date)))
    }

    /// `daily_map_YYYY-MM-DD.svg`: the map of the day, in the maps' sink.
    pub fn day_map(date: NaiveDate) -> Self {
        BlobKey(format!("daily_map_{date}.svg"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for BlobKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn months_cover_every_day_once_cut_at_their_real_ends() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            months_of(d("2024-01-15"), d("2024-03-02")),
            vec![
                (d("2024-01-15"), d("2024-01-31")),
                (d("2024-02-01"), d("2024-02-29")),
                (d("2024-03-01"), d("2024-03-02")),
            ],
            "2024 is a leap year"
        );
        assert_eq!(
            months_of(d("2023-02-01"), d("2023-02-28")),
            vec![(d("2023-02-01"), d("2023-02-28"))]
        );
        assert_eq!(
            months_of(d("2100-02-10"), d("2100-03-01"))[0].1,
            d("2100-02-28"),
            "2100 is not a leap year"
        );
        assert_eq!(
            months_of(d("2000-02-10"), d("2000-03-01"))[0].1,
            d("2000-02-29"),
            "2000 is"
        );
        assert_eq!(
            months_of(d("2025-06-07"), d("2025-06-07")),
            vec![(d("2025-06-07"), d("2025-06-07"))]
        );
        assert!(months_of(d("2025-06-08"), d("2025-06-07")).is_empty());
        // Ten years and more, from odd ends: every day exactly once, in order, each piece
        // within one calendar month and at most 31 days.
        for (from, to) in [
            ("2015-12-31", "2026-01-01"),
            ("2016-02-29", "2024-02-29"),
            ("1999-11-30", "2001-03-01"),
        ] {
            let (from, to) = (d(from), d(to));
            let months = months_of(from, to);
            let days: Vec<NaiveDate> = months
                .iter()
                .flat_map(|(a, b)| a.iter_days().take_while(move |x| x <= b))
                .collect();
            let expected: Vec<NaiveDate> = from.iter_days().take_while(|x| *x <= to).collect();
            assert_eq!(days, expected);
            for (a, b) in &months {
                use chrono::Datelike;
                assert_eq!(
                    (a.year(), a.month()),
                    (b.year(), b.month()),
                    "{a}..{b} in one month"
                );
                assert!((*b - *a).num_days() < 31);
            }
        }
    }

    use super::*;

    #[test]
    fn keys_are_validated() {
        for bad in [
            "",
            "/etc/passwd",
            "../x.csv",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\\b",
            "a\0b",
            "a\nb",
        ] {
            let err = BlobKey::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
        for good in ["daily_report_2025-11-04.csv", "2025/11/r.csv", "a..b.csv"] {
            assert_eq!(BlobKey::new(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn input_locations_are_directories_or_s3_prefixes() {
        let s3 = |b: &str, p: &str| InputLocation::S3 {
            bucket: b.into(),
            prefix: p.into(),
        };
        assert_eq!(
            InputLocation::parse("s3://my-bucket/metrics/").unwrap(),
            s3("my-bucket", "metrics")
        );
        assert_eq!(
            InputLocation::parse("s3://my-bucket").unwrap(),
            s3("my-bucket", "")
        );
        assert_eq!(
            InputLocation::parse("data/metrics").unwrap(),
            InputLocation::Dir("data/metrics".into())
        );
        for bad in ["s3://", "s3://UPPER/x", "s3://b/../x", "s3://bkt/a//b", ""] {
            assert!(InputLocation::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            InputLocation::parse_file("s3://bkt/comptages/2025/a.csv.gz").unwrap(),
            (s3("bkt", "comptages/2025"), "a.csv.gz".to_string())
        );
        assert_eq!(
            InputLocation::parse_file("s3://bkt/a.csv").unwrap(),
            (s3("bkt", ""), "a.csv".to_string())
        );
        assert_eq!(
            InputLocation::parse_file("in.csv").unwrap(),
            (InputLocation::Dir("".into()), "in.csv".to_string())
        );
        assert!(InputLocation::parse_file("s3://bkt/").is_err());
        assert!(InputLocation::parse_file("s3://bkt").is_err());
        assert_eq!(s3("b", "m").to_string(), "s3://b/m");
    }

    #[test]
    fn date_ranges_are_inclusive_and_checked() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let r = DateRange::new(Some(d("2025-11-01")), Some(d("2025-11-03"))).unwrap();
        assert!(r.contains(d("2025-11-01")));
        assert!(r.contains(d("2025-11-03")));
        assert!(!r.contains(d("2025-11-04")));
        assert!(DateRange::ALL.contains(d("1999-01-01")));
        assert!(DateRange::new(Some(d("2025-11-03")), Some(d("2025-11-01"))).is_err());
    }
}
