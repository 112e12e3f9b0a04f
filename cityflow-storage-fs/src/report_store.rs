//! JSON reports as files: `ROOT/daily_report_D.json`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::NaiveDate;
use cityflow_core::{report_id, DateRange, Error, ReportStore, Result, StoredReport};

use crate::atomic::{blocking, ensure_dir, io_error, write_atomic};

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
            write_atomic(&target, &bytes).map_err(|e| io_error(&target, &what, "write", e))?;
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
            let entries = match std::fs::read_dir(&root) {
                Ok(entries) => entries,
                // No directory yet: no report yet.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io_error(&root, "reports", "list", e)),
            };
            let mut dates = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| io_error(&root, "reports", "list", e))?;
                if let Some(date) = entry.file_name().to_str().and_then(date_of_file_name) {
                    if range.contains(date) {
                        dates.push(date);
                    }
                }
            }
            dates.sort_unstable();
            Ok(dates)
        })
        .await
    }

    async fn delete(&self, date: NaiveDate) -> Result<()> {
        let path = self.path_of(date);
        let target = path.clone();
        blocking(&path, move || match std::fs::remove_file(&target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(
                &target,
                &format!("report for {date}"),
                "delete",
                e,
            )),
        })
        .await
    }

    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    async fn setup(&self) -> Result<Vec<cityflow_core::SetupAction>> {
        Ok(vec![ensure_dir(&self.root).await?])
    }
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
