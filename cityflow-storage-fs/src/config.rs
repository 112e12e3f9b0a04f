//! Configuration of the filesystem backend, filled from an environment map.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cityflow_core::{Error, Result};

/// Where the filesystem backend writes: `$OUTPUT_DIR/reports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsConfig {
    /// The directory holding `daily_report_D.csv` and `daily_report_D.json`.
    pub reports_dir: PathBuf,
    /// The directory holding the maps of the days, `daily_map_D.svg`: `$OUTPUT_DIR/maps`.
    pub maps_dir: PathBuf,
}

impl FsConfig {
    /// `OUTPUT_DIR`, when unset or empty.
    pub const DEFAULT_OUTPUT_DIR: &'static str = "output";

    /// Reads `OUTPUT_DIR` (default `output`) from `env`; the reports go to its `reports`
    /// subdirectory. Nothing is touched on disk.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Self> {
        let output_dir = match env.get("OUTPUT_DIR").map(|s| s.trim()) {
            None | Some("") => Self::DEFAULT_OUTPUT_DIR,
            Some(dir) => dir,
        };
        if output_dir.contains('\0') {
            return Err(Error::config("OUTPUT_DIR", "contains a NUL character"));
        }
        Ok(FsConfig {
            reports_dir: PathBuf::from(output_dir).join("reports"),
            maps_dir: PathBuf::from(output_dir).join("maps"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_output_reports() {
        let cfg = FsConfig::from_env(&BTreeMap::new()).unwrap();
        assert_eq!(cfg.reports_dir, PathBuf::from("output/reports"));
        let env = BTreeMap::from([("OUTPUT_DIR".to_string(), "/data/cf".to_string())]);
        assert_eq!(
            FsConfig::from_env(&env).unwrap().reports_dir,
            PathBuf::from("/data/cf/reports")
        );
    }
}
