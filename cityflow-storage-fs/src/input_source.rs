//! Inputs read from a local directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use cityflow_core::{
    file_version, Error, InputData, InputSource, InputStream, ListedInput, Result,
};

use crate::atomic::blocking;

/// An [`InputSource`] over the files of a directory (`name` → `DIR/name`).
#[derive(Debug, Clone)]
pub struct FsInputSource {
    dir: PathBuf,
    /// What the directory is for, in messages (`metrics directory`).
    label: &'static str,
}

impl FsInputSource {
    /// A source over `dir`; `label` says what it holds in messages. Touches nothing.
    pub fn new(dir: impl Into<PathBuf>, label: &'static str) -> Self {
        FsInputSource {
            dir: dir.into(),
            label,
        }
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Why `dir` cannot hold inputs, when it cannot.
    fn check_dir(dir: &Path, label: &str) -> Result<()> {
        let shown = dir.display().to_string();
        // The working directory is always there, whatever its metadata says.
        if dir.as_os_str().is_empty() {
            return Ok(());
        }
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(Error::invalid_input(
                shown,
                format!("{label} is not a directory"),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::invalid_input(
                shown,
                format!("{label} does not exist"),
            )),
            Err(e) => Err(Error::invalid_input(
                shown,
                format!("{label} cannot be read: {e}"),
            )),
        }
    }
}

#[async_trait]
impl InputSource for FsInputSource {
    async fn read(&self, name: &str) -> Result<Option<InputData>> {
        let (dir, path, label) = (self.dir.clone(), self.path_of(name), self.label);
        blocking(&self.dir, move || {
            Self::check_dir(&dir, label)?;
            let Some(bytes) = cityflow_core::read_metrics_file(&path)? else {
                return Ok(None);
            };
            let metadata = std::fs::metadata(&path).map_err(|e| {
                Error::invalid_input(path.display().to_string(), format!("cannot be read: {e}"))
            })?;
            Ok(Some(InputData {
                bytes: Bytes::from(bytes),
                version: file_version(&path, &metadata),
            }))
        })
        .await
    }

    async fn open(&self, name: &str) -> Result<InputStream> {
        let path = self.path_of(name);
        blocking(&self.dir, move || {
            let shown = path.display().to_string();
            // A missing input is the caller's mistake, like any unreadable one.
            let file = std::fs::File::open(&path)
                .map_err(|e| Error::invalid_input(shown.clone(), e.to_string()))?;
            let metadata = file
                .metadata()
                .map_err(|e| Error::invalid_input(shown.clone(), e.to_string()))?;
            Ok(InputStream {
                reader: Box::new(file),
                size: metadata.len(),
                version: file_version(&path, &metadata),
            })
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ListedInput>> {
        let (dir, label, prefix) = (self.dir.clone(), self.label, prefix.to_string());
        blocking(&self.dir, move || {
            Self::check_dir(&dir, label)?;
            // Walk from the deepest directory the prefix names, not the whole tree.
            let start = match prefix.rfind('/') {
                Some(i) => &prefix[..i],
                None => "",
            };
            let mut found = Vec::new();
            let mut pending = vec![start.to_string()];
            while let Some(rel) = pending.pop() {
                // The working directory, named by the empty path, is read as `.`.
                let path = match (rel.is_empty(), dir.as_os_str().is_empty()) {
                    (true, true) => PathBuf::from("."),
                    (true, false) => dir.clone(),
                    (false, _) => dir.join(&rel),
                };
                // The directory a prefix names may not exist, or be a file.
                if !path.is_dir() {
                    continue;
                }
                let entries = match std::fs::read_dir(&path) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(Error::invalid_input(
                            path.display().to_string(),
                            format!("cannot be listed: {e}"),
                        ))
                    }
                };
                for entry in entries {
                    let entry = entry.map_err(|e| {
                        Error::invalid_input(
                            path.display().to_string(),
                            format!("cannot be listed: {e}"),
                        )
                    })?;
                    let Some(file_name) = entry.file_name().to_str().map(str::to_string) else {
                        continue;
                    };
                    // Staging files of an export in progress, hidden files.
                    if file_name.starts_with('.') {
                        continue;
                    }
                    let name = if rel.is_empty() {
                        file_name
                    } else {
                        format!("{rel}/{file_name}")
                    };
                    let metadata = std::fs::metadata(entry.path()).map_err(|e| {
                        Error::invalid_input(
                            entry.path().display().to_string(),
                            format!("cannot be read: {e}"),
                        )
                    })?;
                    if metadata.is_dir() {
                        if name.starts_with(&prefix) || prefix.starts_with(&format!("{name}/")) {
                            pending.push(name);
                        }
                    } else if name.starts_with(&prefix) {
                        let version = file_version(&entry.path(), &metadata);
                        found.push(ListedInput {
                            name,
                            size: metadata.len(),
                            modified_ms: version.modified_ms,
                        });
                    }
                }
            }
            found.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(found)
        })
        .await
    }

    fn location(&self, name: &str) -> String {
        self.path_of(name).display().to_string()
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityflow_core::ErrorKind;
    use std::io::Read;

    #[tokio::test]
    async fn reads_files_and_says_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{}").unwrap();
        let source = FsInputSource::new(dir.path(), "metrics directory");
        let data = source.read("a.json").await.unwrap().unwrap();
        assert_eq!(data.bytes, "{}");
        assert_eq!(data.version.size, 2);
        assert!(
            data.version.modified_ms > 1_600_000_000_000,
            "{:?}",
            data.version
        );
        assert_eq!(source.read("b.json").await.unwrap(), None);
        let mut text = String::new();
        let stream = source.open("a.json").await.unwrap();
        assert_eq!(stream.size, 2);
        { stream.reader }.read_to_string(&mut text).unwrap();
        assert_eq!(text, "{}");
        let e = source.open("b.json").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("b.json"), "{e}");

        let gone = FsInputSource::new(dir.path().join("gone"), "metrics directory");
        let e = gone.read("a.json").await.unwrap_err();
        assert!(e.is_caller_error());
        assert!(
            e.to_string()
                .ends_with("gone: metrics directory does not exist"),
            "{e}"
        );
        std::fs::create_dir_all(dir.path().join("api/bikes/dt=2025-11-04")).unwrap();
        std::fs::write(dir.path().join("api/bikes/dt=2025-11-04/p1.json"), b"[]").unwrap();
        std::fs::write(
            dir.path().join("api/bikes/dt=2025-11-04/.p2.json.tmp"),
            b"[",
        )
        .unwrap();
        let names = |l: Vec<ListedInput>| l.into_iter().map(|i| i.name).collect::<Vec<_>>();
        assert_eq!(
            names(source.list("api/bikes/dt=2025-11-04/").await.unwrap()),
            ["api/bikes/dt=2025-11-04/p1.json"]
        );
        assert_eq!(names(source.list("api/bikes/dt=").await.unwrap()).len(), 1);
        assert_eq!(
            names(source.list("").await.unwrap()),
            ["a.json", "api/bikes/dt=2025-11-04/p1.json"]
        );
        assert!(source.list("api/weather/").await.unwrap().is_empty());
        assert!(gone
            .list("")
            .await
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
        let file = FsInputSource::new(dir.path().join("a.json"), "metrics directory");
        let e = file.read("x.json").await.unwrap_err();
        assert!(e.to_string().contains("is not a directory"), "{e}");
    }
}
