//! Blobs as files under a root directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use cityflow_core::{BlobKey, BlobSink, Error, Result};

use crate::atomic::{blocking, ensure_dir, io_error, is_staging, write_atomic};

/// A [`BlobSink`] writing each key as a file under `root` (`a/b.csv` → `ROOT/a/b.csv`).
///
/// Keys are validated by [`BlobKey`], so a key can never escape the root. Construction
/// touches nothing; directories are created by `put`.
#[derive(Debug, Clone)]
pub struct FsBlobSink {
    root: PathBuf,
}

impl FsBlobSink {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsBlobSink { root: root.into() }
    }

    /// The directory holding the blobs.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        // BlobKey guarantees relative '/'-separated components without `..`.
        key.as_str()
            .split('/')
            .fold(self.root.clone(), |p, part| p.join(part))
    }
}

#[async_trait]
impl BlobSink for FsBlobSink {
    async fn put(&self, key: &BlobKey, bytes: Bytes, _content_type: &str) -> Result<String> {
        let path = self.path_of(key);
        let location = self.location(key);
        let what = key.to_string();
        let target = path.clone();
        blocking(&path, move || {
            write_atomic(&target, &bytes).map_err(|e| io_error(&target, &what, "write", e))?;
            Ok(location)
        })
        .await
    }

    async fn get(&self, key: &BlobKey) -> Result<Bytes> {
        let path = self.path_of(key);
        let what = key.to_string();
        let root = self.root.clone();
        let target = path.clone();
        blocking(&path, move || {
            std::fs::read(&target)
                .map(Bytes::from)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        Error::not_found(format!("directory {}", root.display()), what)
                    }
                    _ => io_error(&target, &what, "read", e),
                })
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        blocking(&self.root, move || {
            let mut keys = Vec::new();
            walk(&root, "", &prefix, &mut keys)?;
            keys.sort();
            Ok(keys)
        })
        .await
    }

    async fn delete(&self, key: &BlobKey) -> Result<()> {
        let path = self.path_of(key);
        let what = key.to_string();
        let target = path.clone();
        blocking(&path, move || match std::fs::remove_file(&target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&target, &what, "delete", e)),
        })
        .await
    }

    fn location(&self, key: &BlobKey) -> String {
        self.path_of(key).display().to_string()
    }

    fn describe(&self) -> String {
        format!("directory {}", self.root.display())
    }

    async fn setup(&self) -> Result<Vec<cityflow_core::SetupAction>> {
        Ok(vec![ensure_dir(&self.root).await?])
    }
}

/// Collects the keys under `dir` (whose key prefix is `rel`) that start with `prefix`.
fn walk(dir: &Path, rel: &str, prefix: &str, keys: &mut Vec<BlobKey>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(dir, "blobs", "list", e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, "blobs", "list", e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            // A name that is not UTF-8 cannot be a key we wrote.
            continue;
        };
        if is_staging(&name) {
            continue;
        }
        let key = format!("{rel}{name}");
        let file_type = entry
            .file_type()
            .map_err(|e| io_error(&entry.path(), "blobs", "list", e))?;
        if file_type.is_dir() {
            // Hidden directories belong to the stores sharing the root (the reports' summary
            // index, `.summaries`), not to the sink.
            if name.starts_with('.') {
                continue;
            }
            let sub = format!("{key}/");
            // Only descend where a match is possible.
            if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                walk(&entry.path(), &sub, prefix, keys)?;
            }
        } else if key.starts_with(prefix) {
            if let Ok(key) = BlobKey::new(key) {
                keys.push(key);
            }
        }
    }
    Ok(())
}
