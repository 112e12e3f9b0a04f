//! Atomic file replacement and the io-error mapping shared by the two stores.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use cityflow_core::Error;

/// Staging files end with this; listings skip them.
pub(crate) const STAGING_SUFFIX: &str = ".cityflow-tmp";

/// Whether `file_name` is one of our staging files (`.NAME.PID.N.cityflow-tmp`).
pub(crate) fn is_staging(file_name: &str) -> bool {
    file_name.starts_with('.') && file_name.ends_with(STAGING_SUFFIX)
}

/// Writes `bytes` to `path` atomically: staging file in the same directory, `fsync`, rename,
/// then `fsync` of the directory so the rename itself survives a power loss.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    fs::create_dir_all(dir)?;
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
