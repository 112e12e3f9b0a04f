//! JSON reports as files: `ROOT/daily_report_D.json`, and their summaries in
//! `ROOT/.summaries/` (see [`crate::summary_index`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use cityflow_core::{
    report_id, DateRange, Error, ReportStore, ReportSummary, Result, SetupAction, SetupProgress,
    StoredReport, SummaryQuery,
};

use crate::atomic::{blocking, ensure_dir, io_error, write_atomic};
use crate::summary_index::{SummaryIndex, INDEX_DIR};

/// A [`ReportStore`] keeping one pretty-printed JSON envelope per date in a directory.
///
/// Construction touches nothing; the directory is created by the first `put`.
#[derive(Debug, Clone)]
pub struct FsReportStore {
    root: PathBuf,
}

impl FsReportStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsReportStore { root: root.into() }
    }

    /// The directory holding the reports.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of `date`'s report.
    pub fn path_of(&self, date: NaiveDate) -> PathBuf {
        self.root.join(format!("{}.json", report_id(date)))
    }
}

/// The envelope stored at `path`, if any. One that cannot be read as an envelope (written by
/// hand, or by another tool) says nothing about its inputs: it is replaced.
fn read_envelope(path: &Path) -> Result<Option<StoredReport>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, "stored report", "read", e)),
    }
}

/// An exclusive `flock` on a directory, released when dropped (or when the process dies).
struct DirLock(std::fs::File);

impl DirLock {
    fn exclusive(dir: &Path) -> Result<DirLock> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(dir).map_err(|e| io_error(dir, "directory", "open", e))?;
        loop {
            // SAFETY: a valid descriptor owned by `file`, which outlives the lock.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(DirLock(file));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(io_error(dir, "directory", "lock", e));
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as above; closing the file would release the lock too.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// `daily_report_YYYY-MM-DD.json` → the date.
fn date_of_file_name(name: &str) -> Option<NaiveDate> {
    let date = name.strip_prefix("daily_report_")?.strip_suffix(".json")?;
    // Exactly YYYY-MM-DD, so that `daily_report_2025-1-4.json` is not taken for a report.
    if date.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

#[async_trait]
impl ReportStore for FsReportStore {
    async fn put(&self, report: &StoredReport) -> Result<String> {
        let path = self.path_of(report.date);
        let mut bytes = serde_json::to_vec_pretty(report).map_err(|e| {
            Error::backend(path.display().to_string(), "cannot serialize the report", e)
        })?;
        bytes.push(b'\n');
        let what = format!("report for {}", report.date);
        let target = path.clone();
        let root = self.root.clone();
        let report = report.clone();
        blocking(&path, move || {
            std::fs::create_dir_all(&root)
                .map_err(|e| io_error(&root, "directory", "create", e))?;
            // Compare and replace under an exclusive lock on the directory (held by every
            // writer of this store, across processes), so that "keep the newer inputs" is a
            // condition of the write, not a read racing with another writer.
            let _lock = DirLock::exclusive(&root)?;
            if let Some(stored) = read_envelope(&target)? {
                if !report.may_replace(&stored) {
                    return Err(Error::superseded(
                        target.display().to_string(),
                        &report,
                        &stored,
                    ));
                }
            }
            // The report and its summary, as one write for readers (see `summary_index`).
            let index = SummaryIndex::new(&root);
            index.prepare(|| dates_in(&root))?;
            index.mark(report.date)?;
            write_atomic(&target, &bytes).map_err(|e| io_error(&target, &what, "write", e))?;
            index.set(report.date, Some(&ReportSummary::of(&report)))?;
            index.clear_marker(report.date)?;
            Ok(target.display().to_string())
        })
        .await
    }

    async fn get(&self, date: NaiveDate) -> Result<StoredReport> {
        let path = self.path_of(date);
        let target = path.clone();
        blocking(&path, move || {
            let what = format!("report for {date}");
            let bytes = std::fs::read(&target).map_err(|e| match e.kind() {
                // Name the directory, where the user looks for reports.
                std::io::ErrorKind::NotFound => Error::not_found(
                    format!("directory {}", target.parent().unwrap_or(&target).display()),
                    what.clone(),
                ),
                _ => io_error(&target, &what, "read", e),
            })?;
            serde_json::from_slice(&bytes).map_err(|e| {
                Error::backend(
                    target.display().to_string(),
                    format!("{what} is not a valid stored report"),
                    e,
                )
            })
        })
        .await
    }

    /// The file's inode, modification time (ns) and size. Every write renames a new file
    /// over the old one, so the inode alone changes with each write; the other two guard
    /// against file systems that reuse inodes. A `stat` of one local file takes microseconds:
    /// it runs on the caller's thread rather than paying a hop to the blocking pool, which
    /// would cost more than the call.
    async fn version(&self, date: NaiveDate) -> Result<Option<String>> {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(self.path_of(date)) {
            Ok(m) => Ok(Some(format!(
                "{}-{}.{}-{}",
                m.ino(),
                m.mtime(),
                m.mtime_nsec(),
                m.len()
            ))),
            Err(_) => Ok(None),
        }
    }

    async fn list(&self, range: DateRange) -> Result<Vec<NaiveDate>> {
        let root = self.root.clone();
        blocking(&self.root, move || {
            let mut dates = dates_in(&root)?;
            dates.retain(|d| range.contains(*d));
            Ok(dates)
        })
        .await
    }

    async fn summaries_version(&self, range: DateRange) -> Result<Option<String>> {
        let root = self.root.clone();
        blocking(&self.root, move || SummaryIndex::new(&root).version(range)).await
    }

    async fn summaries(&self, query: SummaryQuery) -> Result<Vec<ReportSummary>> {
        let root = self.root.clone();
        blocking(&self.root, move || {
            let index = SummaryIndex::new(&root);
            if let Some(found) = index.query(query)? {
                return Ok(found);
            }
            // A directory written before the index existed: read from the reports until
            // the next write or `cityflow setup` builds it.
            tracing::warn!(
                dir = %root.display(),
                "no summary index yet ({INDEX_DIR}): reading whole reports; `cityflow setup` builds it"
            );
            let mut dates = dates_in(&root)?;
            dates.retain(|d| query.range.contains(*d));
            if query.newest_first {
                dates.reverse();
            }
            let mut found = Vec::new();
            for date in dates {
                if found.len() >= query.page_size() {
                    break;
                }
                if let Some(summary) = index.summary_from_report(date)? {
                    found.push(summary);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn delete(&self, date: NaiveDate) -> Result<()> {
        let path = self.path_of(date);
        let target = path.clone();
        let root = self.root.clone();
        blocking(&path, move || {
            if !root.is_dir() {
                return Ok(());
            }
            let _lock = DirLock::exclusive(&root)?;
            let index = SummaryIndex::new(&root);
            index.prepare(|| dates_in(&root))?;
            index.mark(date)?;
            match std::fs::remove_file(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(io_error(
                        &target,
                        &format!("report for {date}"),
                        "delete",
                        e,
                    ))
                }
            }
            index.set(date, None)?;
            index.clear_marker(date)
        })
        .await
    }

    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    /// The directory, and the summary index: built from the reports when it does not exist
    /// (a directory written before it did), repaired where a killed writer left it behind.
    async fn setup_with_progress(
        &self,
        progress: Arc<dyn SetupProgress>,
    ) -> Result<Vec<SetupAction>> {
        let mut actions = vec![ensure_dir(&self.root).await?];
        let root = self.root.clone();
        actions.push(
            blocking(&self.root, move || {
                let _lock = DirLock::exclusive(&root)?;
                let index = SummaryIndex::new(&root);
                let resource = |n: usize| {
                    format!(
                        "summary index {} ({n} reports)",
                        root.join(INDEX_DIR).display()
                    )
                };
                let dates = dates_in(&root)?;
                if index.exists() {
                    index.prepare(|| Ok(dates.clone()))?;
                    return Ok(SetupAction::existing(resource(dates.len())));
                }
                let indexed = index.build(&dates, &*progress)?;
                Ok(SetupAction::created(resource(indexed)))
            })
            .await?,
        );
        Ok(actions)
    }
}

/// The dates of the report files in `root`, sorted; none when it does not exist.
fn dates_in(root: &Path) -> Result<Vec<NaiveDate>> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        // No directory yet: no report yet.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(root, "reports", "list", e)),
    };
    let mut dates = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(root, "reports", "list", e))?;
        if let Some(date) = entry.file_name().to_str().and_then(date_of_file_name) {
            dates.push(date);
        }
    }
    dates.sort_unstable();
    Ok(dates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_report_files_are_listed() {
        assert_eq!(
            date_of_file_name("daily_report_2025-11-04.json"),
            NaiveDate::from_ymd_opt(2025, 11, 4)
        );
        for other in [
            "daily_report_2025-11-04.csv",
            "daily_report_2025-1-4.json",
            ".daily_report_2025-11-04.json.1.2.cityflow-tmp",
            "daily_report_2025-13-04.json",
            "notes.json",
        ] {
            assert_eq!(date_of_file_name(other), None, "{other}");
        }
    }
}
