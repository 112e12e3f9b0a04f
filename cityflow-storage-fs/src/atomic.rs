//! Atomic file replacement and the io-error mapping shared by the two stores.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use cityflow_core::Error;

/// Staging files end with this; listings skip them.
pub(crate) const STAGING_SUFFIX: &str = ".cityflow-tmp";

/// Whether `file_name` is one of our staging files (`.NAME.PID.N.cityflow-tmp`).
pub(crate) fn is_staging(file_name: &str) -> bool {
    file_name.starts_with('.') && file_name.ends_with(STAGING_SUFFIX)
}

/// A staging file lives for one write: milliseconds, seconds for the largest report. One
/// older than this, whose process is gone, was left by a process killed mid-write.
pub(crate) const STALE_STAGING_AGE: Duration = Duration::from_secs(3600);

/// The process id written in a staging file's name (`.NAME.PID.N.cityflow-tmp`).
fn staging_owner(file_name: &str) -> Option<u32> {
    let stem = file_name.strip_suffix(STAGING_SUFFIX)?;
    let (rest, _counter) = stem.rsplit_once('.')?;
    let (_, pid) = rest.rsplit_once('.')?;
    pid.parse().ok()
}

/// Whether process `pid` runs (on this host's process namespace). Where that cannot be
/// told, it is assumed to run: a staging file is then kept, never a live writer's removed.
fn process_runs(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// Removes the staging files of `dir` left by killed writers: older than `older_than` and
/// owned by no running process (both, so that a writer in another PID namespace sharing the
/// directory, whose process this one cannot see, keeps its file). Returns how many went.
pub(crate) fn sweep_stale_staging(dir: &Path, older_than: Duration) -> io::Result<usize> {
    let now = SystemTime::now();
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| is_staging(n)) else {
            continue;
        };
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok());
        let abandoned = staging_owner(name).is_some_and(|pid| !process_runs(pid));
        if abandoned && age.is_some_and(|age| age > older_than) {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                // Another sweeper was first.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

/// [`sweep_stale_staging`] of `dir` with [`STALE_STAGING_AGE`], once per process and
/// directory: on the first write there (constructors touch nothing). A failure to sweep is
/// logged, never fails the write.
fn sweep_once(dir: &Path) {
    static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    {
        let mut swept = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
        if !swept
            .get_or_insert_with(HashSet::new)
            .insert(dir.to_path_buf())
        {
            return;
        }
    }
    match sweep_stale_staging(dir, STALE_STAGING_AGE) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            dir = %dir.display(),
            removed = n,
            "removed staging files left by killed writers"
        ),
        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "cannot sweep staging files"),
    }
}

/// Writes `bytes` to `path` atomically: staging file in the same directory, `fsync`, rename,
/// then `fsync` of the directory so the rename itself survives a power loss. The first write
/// into a directory removes the staging files killed writers left there.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    fs::create_dir_all(dir)?;
    sweep_once(dir);
    // Unique per process and per write, so concurrent writers never share a staging file.
    let staging = dir.join(format!(
        ".{name}.{}.{}{STAGING_SUFFIX}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .open(&staging)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&staging, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        // Best effort: the staging file is garbage either way, and listings ignore it.
        let _ = fs::remove_file(&staging);
    }
    result
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing on Windows; rename is durable there.
    Ok(())
}

/// Maps an io error of `action` on `path` to the core error kinds.
pub(crate) fn io_error(path: &Path, what: &str, action: &str, e: io::Error) -> Error {
    let target = path.display().to_string();
    match e.kind() {
        io::ErrorKind::NotFound => Error::not_found(target, what),
        io::ErrorKind::TimedOut | io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => {
            Error::unavailable(target, format!("cannot {action} {what}: {e}"), e)
        }
        _ => Error::backend(target, format!("cannot {action} {what}: {e}"), e),
    }
}

/// Creates `dir` if needed, for `setup`.
pub(crate) async fn ensure_dir(dir: &Path) -> cityflow_core::Result<cityflow_core::SetupAction> {
    let target = dir.to_path_buf();
    blocking(dir, move || {
        let resource = format!("directory {}", target.display());
        if target.is_dir() {
            return Ok(cityflow_core::SetupAction::existing(resource));
        }
        fs::create_dir_all(&target).map_err(|e| io_error(&target, "directory", "create", e))?;
        Ok(cityflow_core::SetupAction::created(resource))
    })
    .await
}

/// Runs blocking filesystem work off the async executor.
pub(crate) async fn blocking<T, F>(target: &Path, f: F) -> cityflow_core::Result<T>
where
    F: FnOnce() -> cityflow_core::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::backend(target.display().to_string(), "filesystem task failed", e))?
}

#[cfg(test)]
mod tests {
    #[test]
    fn stale_staging_files_of_dead_writers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        // A process that ran and is gone: its id names no running process (unless reused
        // within this test, which would only keep its file).
        let dead = std::process::Command::new("true")
            .spawn()
            .and_then(|mut c| c.wait().map(|_| c.id()))
            .unwrap();
        let make = |name: String, age: Duration| {
            let path = dir.path().join(name);
            fs::write(&path, b"half a report").unwrap();
            let file = File::options().write(true).open(&path).unwrap();
            file.set_modified(SystemTime::now() - age).unwrap();
            path
        };
        let hour = Duration::from_secs(3600);
        let stale = make(
            format!(".daily_report_2026-03-10.json.{dead}.0{STAGING_SUFFIX}"),
            2 * hour,
        );
        let recent = make(
            format!(".daily_report_2026-03-11.json.{dead}.1{STAGING_SUFFIX}"),
            Duration::ZERO,
        );
        let live = make(
            format!(
                ".daily_report_2026-03-12.json.{}.2{STAGING_SUFFIX}",
                std::process::id()
            ),
            2 * hour,
        );
        let foreign = make(".notes.txt".into(), 2 * hour);
        let report = make("daily_report_2026-03-10.json".into(), 2 * hour);
        assert_eq!(
            staging_owner(&format!(".a.b.json.{dead}.7{STAGING_SUFFIX}")),
            Some(dead)
        );
        assert_eq!(sweep_stale_staging(dir.path(), hour).unwrap(), 1);
        assert!(!stale.exists(), "old, and its writer is gone");
        for kept in [&recent, &live, &foreign, &report] {
            assert!(kept.exists(), "{} is kept", kept.display());
        }
        assert_eq!(sweep_stale_staging(dir.path(), hour).unwrap(), 0);
        assert_eq!(
            sweep_stale_staging(&dir.path().join("absent"), hour).unwrap(),
            0
        );
    }

    use super::*;

    #[test]
    fn replaces_atomically_and_leaves_no_staging_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/r.csv");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["r.csv"]);
    }

    #[test]
    fn a_failed_write_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        write_atomic(&path, b"previous").unwrap();
        // Renaming a file over a non-empty directory fails after the staging file is written.
        let blocked = dir.path().join("blocked");
        fs::create_dir_all(blocked.join("inside")).unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"previous");
        let leftovers = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| is_staging(e.as_ref().unwrap().file_name().to_str().unwrap()))
            .count();
        assert_eq!(leftovers, 0, "the staging file is removed on failure");
    }
}
