//! The summary index of a reports directory: `ROOT/.summaries/daily_summaries_YYYY.jsonl`, one
//! JSON line per report of the year ([`ReportSummary`]), sorted by date, each file replaced
//! atomically. Listing and statistics read these files (a year is about 160 KB) instead of
//! the reports (about 35 KB each).
//!
//! A report and its year file are two files, which no file system replaces in one step. So
//! every writer, under the directory's lock, first leaves a marker
//! `.summaries/pending_YYYY-MM-DD`, then writes the report, then the year file, then removes
//! the marker. A writer killed in between leaves the marker: readers then take that date's
//! summary from its report (one read), and the next writer repairs the year file. The
//! directory `.summaries` itself appears only once complete (built aside, then renamed), so
//! a reports directory written before the index existed is indexed by the first write or by
//! `cityflow setup`, and read from its reports until then.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use cityflow_core::{
    DateRange, Error, NoSetupProgress, ReportSummary, Result, SetupProgress, StoredReport,
    SummaryQuery,
};

use crate::atomic::{io_error, write_atomic};

/// The index's directory inside the reports directory.
pub(crate) const INDEX_DIR: &str = ".summaries";

/// The summary index of one reports directory.
#[derive(Debug, Clone)]
pub(crate) struct SummaryIndex {
    /// The reports directory.
    root: PathBuf,
    dir: PathBuf,
}

/// What the index's directory holds: the years of its year files, the dates of its markers.
#[derive(Debug, Default)]
struct Listing {
    years: Vec<i32>,
    pending: Vec<NaiveDate>,
}

/// The summaries of one year, by date, each as its JSON line.
type YearLines = BTreeMap<NaiveDate, String>;

impl SummaryIndex {
    pub(crate) fn new(root: &Path) -> Self {
        SummaryIndex {
            root: root.to_path_buf(),
            dir: root.join(INDEX_DIR),
        }
    }

    fn year_file(&self, year: i32) -> PathBuf {
        self.dir.join(format!("daily_summaries_{year:04}.jsonl"))
    }

    fn marker(&self, date: NaiveDate) -> PathBuf {
        self.dir.join(format!("pending_{date}"))
    }

    fn report_path(&self, date: NaiveDate) -> PathBuf {
        self.root
            .join(format!("{}.json", cityflow_core::report_id(date)))
    }

    fn error(&self, path: &Path, action: &str, e: io::Error) -> Error {
        io_error(path, "summary index", action, e)
    }

    /// Whether the index has been built.
    pub(crate) fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    // ---- writers: every call below runs under the reports directory's lock ----

    /// Makes the index ready for a write: built when it does not exist yet, repaired where a
    /// killed writer left a marker. Under the directory's lock.
    /// `reports` lists the reports directory, for a build.
    pub(crate) fn prepare(&self, reports: impl FnOnce() -> Result<Vec<NaiveDate>>) -> Result<()> {
        if !self.exists() {
            let reports = reports()?;
            if !reports.is_empty() {
                tracing::info!(
                    dir = %self.root.display(),
                    reports = reports.len(),
                    "building the summary index of the reports already stored"
                );
            }
            return self.build(&reports, &NoSetupProgress).map(|_| ());
        }
        for date in self.pending()? {
            let summary = self.summary_from_report(date)?;
            self.set(date, summary.as_ref())?;
            self.clear_marker(date)?;
        }
        Ok(())
    }

    /// Builds the whole index from the reports of `reports` aside, then renames it into
    /// place; returns how many reports it indexed. Under the directory's lock. Each report
    /// read is one step of `progress`.
    pub(crate) fn build(
        &self,
        reports: &[NaiveDate],
        progress: &dyn SetupProgress,
    ) -> Result<usize> {
        let staging = self
            .root
            .join(format!("{INDEX_DIR}.building-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(|e| self.error(&staging, "create", e))?;
        let mut years: BTreeMap<i32, YearLines> = BTreeMap::new();
        let mut indexed = 0;
        if !reports.is_empty() {
            progress.start(
                &format!("indexing the reports of {}", self.root.display()),
                reports.len() as u64,
            );
        }
        for &date in reports {
            if let Some(summary) = self.summary_from_report(date)? {
                years
                    .entry(date.year())
                    .or_default()
                    .insert(date, line_of(&summary, &self.dir)?);
                indexed += 1;
            }
            progress.advance();
        }
        if !reports.is_empty() {
            progress.finish();
        }
        for (year, lines) in &years {
            let path = staging.join(format!("daily_summaries_{year:04}.jsonl"));
            write_atomic(&path, &joined(lines)).map_err(|e| self.error(&path, "write", e))?;
        }
        let _ = fs::remove_dir_all(&self.dir);
        fs::rename(&staging, &self.dir).map_err(|e| self.error(&self.dir, "create", e))?;
        Ok(indexed)
    }

    /// Leaves the marker of `date` before its report is written or removed.
    pub(crate) fn mark(&self, date: NaiveDate) -> Result<()> {
        let marker = self.marker(date);
        write_atomic(&marker, b"").map_err(|e| self.error(&marker, "write", e))
    }

    /// Removes the marker of `date` once its year file says what its report does.
    pub(crate) fn clear_marker(&self, date: NaiveDate) -> Result<()> {
        let marker = self.marker(date);
        match fs::remove_file(&marker) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.error(&marker, "remove", e)),
            _ => Ok(()),
        }
    }

    /// Sets (or with `None` removes) the summary of `date` in its year file.
    pub(crate) fn set(&self, date: NaiveDate, summary: Option<&ReportSummary>) -> Result<()> {
        let path = self.year_file(date.year());
        let mut lines = self.read_year(&path)?.unwrap_or_default();
        match summary {
            Some(s) => {
                lines.insert(date, line_of(s, &path)?);
            }
            None => {
                if lines.remove(&date).is_none() {
                    return Ok(());
                }
            }
        }
        if lines.is_empty() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(self.error(&path, "remove", e))
                }
                _ => Ok(()),
            };
        }
        write_atomic(&path, &joined(&lines)).map_err(|e| self.error(&path, "write", e))
    }

    // ---- readers: no lock (every file is replaced whole) ----

    /// The summaries `query` asks for; `None` when the index has not been built.
    pub(crate) fn query(&self, query: SummaryQuery) -> Result<Option<Vec<ReportSummary>>> {
        let Some(listing) = self.listing()? else {
            return Ok(None);
        };
        let mut years = listing.years;
        let mut pending = listing.pending;
        pending.retain(|d| query.range.contains(*d));
        let range = query.range;
        years.retain(|y| {
            range.from.is_none_or(|f| *y >= f.year()) && range.to.is_none_or(|t| *y <= t.year())
        });
        // Years of pending dates with no year file yet (the first report of a year, killed
        // before its year file was written).
        for date in &pending {
            if !years.contains(&date.year()) {
                years.push(date.year());
            }
        }
        years.sort_unstable();
        if query.newest_first {
            years.reverse();
        }
        let limit = query.page_size();
        let mut found = Vec::new();
        for year in years {
            let path = self.year_file(year);
            let mut lines = self.read_year(&path)?.unwrap_or_default();
            // A marked date: its report says, not the year file.
            for date in pending.iter().filter(|d| d.year() == year) {
                lines.remove(date);
                if let Some(summary) = self.summary_from_report(*date)? {
                    lines.insert(*date, line_of(&summary, &path)?);
                }
            }
            let in_range = lines.iter().filter(|(d, _)| range.contains(**d));
            let mut take = |(date, line): (&NaiveDate, &String)| -> Result<bool> {
                let summary: ReportSummary = serde_json::from_str(line).map_err(|e| {
                    Error::backend(
                        path.display().to_string(),
                        format!("the summary of {date} in the summary index is unreadable"),
                        e,
                    )
                })?;
                found.push(summary);
                Ok(found.len() >= limit)
            };
            if query.newest_first {
                for entry in in_range.rev() {
                    if take(entry)? {
                        return Ok(Some(found));
                    }
                }
            } else {
                for entry in in_range {
                    if take(entry)? {
                        return Ok(Some(found));
                    }
                }
            }
        }
        Ok(Some(found))
    }

    /// A token of the year files covering `range`: the year, inode, modification time and
    /// size of each (a file is replaced by a rename, so every write gives a new inode).
    /// `None` when the index has not been built or a write of the range is in progress (a
    /// marker): the reports say then, not the year files.
    pub(crate) fn version(&self, range: DateRange) -> Result<Option<String>> {
        use std::os::unix::fs::MetadataExt;
        let Some(listing) = self.listing()? else {
            return Ok(None);
        };
        if listing.pending.iter().any(|d| range.contains(*d)) {
            return Ok(None);
        }
        let mut years = listing.years;
        years.retain(|y| {
            range.from.is_none_or(|f| *y >= f.year()) && range.to.is_none_or(|t| *y <= t.year())
        });
        years.sort_unstable();
        let mut token = String::from("v1");
        for year in years {
            let path = self.year_file(year);
            match fs::metadata(&path) {
                Ok(m) => token.push_str(&format!(
                    ";{year}:{}-{}.{}-{}",
                    m.ino(),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.len()
                )),
                // Removed since it was listed: a write just happened; read instead.
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(self.error(&path, "stat", e)),
            }
        }
        Ok(Some(token))
    }

    /// The dates with a marker.
    fn pending(&self) -> Result<Vec<NaiveDate>> {
        Ok(self.listing()?.map(|l| l.pending).unwrap_or_default())
    }

    /// The year files and markers in the index's directory; `None` when it has not been
    /// built.
    fn listing(&self) -> Result<Option<Listing>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(&self.dir, "list", e)),
        };
        let mut listing = Listing::default();
        for entry in entries {
            let entry = entry.map_err(|e| self.error(&self.dir, "list", e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(year) = name
                .strip_prefix("daily_summaries_")
                .and_then(|n| n.strip_suffix(".jsonl"))
                .and_then(|y| y.parse::<i32>().ok())
            {
                listing.years.push(year);
            } else if let Some(date) = name
                .strip_prefix("pending_")
                .and_then(|d| cityflow_core::parse_date(d).ok())
            {
                listing.pending.push(date);
            }
        }
        Ok(Some(listing))
    }

    /// The summary of the report stored for `date`, read from the report; `None` when there
    /// is none (or it is not an envelope: listings skip such files too).
    pub(crate) fn summary_from_report(&self, date: NaiveDate) -> Result<Option<ReportSummary>> {
        let path = self.report_path(date);
        match fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice::<StoredReport>(&bytes)
                .ok()
                .map(|stored| ReportSummary::of(&stored))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, "stored report", "read", e)),
        }
    }

    /// The lines of a year file by date; `None` when there is none.
    fn read_year(&self, path: &Path) -> Result<Option<YearLines>> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(path, "read", e)),
        };
        let mut lines = YearLines::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let date = date_of_line(line).ok_or_else(|| {
                Error::backend(
                    path.display().to_string(),
                    "the summary index holds a line without a date; `cityflow setup` rebuilds it",
                    io::Error::new(io::ErrorKind::InvalidData, "no date"),
                )
            })?;
            lines.insert(date, line.to_string());
        }
        Ok(Some(lines))
    }
}

/// The JSON line of `summary`.
fn line_of(summary: &ReportSummary, target: &Path) -> Result<String> {
    serde_json::to_string(summary).map_err(|e| {
        Error::backend(
            target.display().to_string(),
            format!("cannot serialize the summary of {}", summary.date),
            e,
        )
    })
}

/// The date of a line, read from its start (`{"date":"YYYY-MM-DD",`: the field comes first),
/// so that updating a year file does not parse every line.
fn date_of_line(line: &str) -> Option<NaiveDate> {
    let date = line.strip_prefix("{\"date\":\"")?.get(..10)?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

fn joined(lines: &YearLines) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(lines.values().map(|l| l.len() + 1).sum());
    for line in lines.values() {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_dated_by_its_first_field() {
        let stored = StoredReport::new(
            cityflow_core::DailyReport::empty(
                "2025-11-04".parse().unwrap(),
                cityflow_core::Timestamp::now(),
            ),
            cityflow_core::Timestamp::now(),
        );
        let line = line_of(&ReportSummary::of(&stored), Path::new("x")).unwrap();
        assert_eq!(date_of_line(&line), "2025-11-04".parse().ok());
        assert_eq!(date_of_line("{\"report_id\":\"x\"}"), None);
    }
}
