//! The environment map: `.env` file under the process environment.

use std::collections::BTreeMap;
use std::path::Path;

use cityflow_core::{Error, Result};

/// Environment variables by name.
pub type EnvMap = BTreeMap<String, String>;

/// The variables CityFlow reads; used to reject unreadable values of ours and for `cityflow env`.
pub(crate) const KNOWN_VARIABLES: &[&str] = &[
    "CITYFLOW_ENV",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "DATABASE_TYPE",
    "USE_S3",
    "USE_DYNAMODB",
    "OUTPUT_DIR",
    "METRICS_DIR",
    "CITYFLOW_RAW",
    "REPORT_DATE",
    "MONGODB_URL",
    "MONGODB_DATABASE",
    "MONGODB_TIMEOUT_MS",
    "MONGODB_MAX_ATTEMPTS",
    "AWS_REGION",
    "DYNAMODB_REPORTS_TABLE",
    "S3_REPORTS_BUCKET",
    "S3_REPORTS_PREFIX",
    "REPORT_TTL_DAYS",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Reads `dotenv` (when given and present) and then the process environment, which wins.
///
/// The process environment is not modified. A `.env` line that cannot be parsed is an error
/// naming the file; a variable of ours whose value is not UTF-8 is an error naming it.
pub fn load_env(dotenv: Option<&Path>) -> Result<EnvMap> {
    let mut env = EnvMap::new();
    if let Some(path) = dotenv {
        match dotenvy::from_path_iter(path) {
            Ok(iter) => {
                for item in iter {
                    let (k, v) = item.map_err(|e| {
                        Error::config(path.display().to_string(), format!("cannot be read: {e}"))
                    })?;
                    env.insert(k, v);
                }
            }
            Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::config(
                    path.display().to_string(),
                    format!("cannot be read: {e}"),
                ))
            }
        }
    }
    for (k, v) in std::env::vars_os() {
        match (k.into_string(), v.into_string()) {
            (Ok(k), Ok(v)) => {
                env.insert(k, v);
            }
            (Ok(k), Err(_)) if KNOWN_VARIABLES.contains(&k.as_str()) => {
                return Err(Error::config(k, "value is not valid UTF-8"));
            }
            // Someone else's variable: not ours to judge.
            _ => {}
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_is_read_and_the_process_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        // PATH is always set in the process environment, so it must win over the file.
        std::fs::write(
            &path,
            "CITYFLOW_TEST_ONLY_IN_FILE=from-file\nPATH=from-file\n# comment\n",
        )
        .unwrap();
        let env = load_env(Some(&path)).unwrap();
        assert_eq!(env["CITYFLOW_TEST_ONLY_IN_FILE"], "from-file");
        assert_ne!(env["PATH"], "from-file");
    }

    #[test]
    fn a_missing_dotenv_is_fine_and_a_broken_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_env(Some(&dir.path().join("absent.env"))).is_ok());
        let path = dir.path().join(".env");
        std::fs::write(&path, "GOOD=1\nBAD LINE WITHOUT EQUALS 'x\n").unwrap();
        let err = load_env(Some(&path)).unwrap_err();
        assert!(err.is_caller_error());
        assert!(err.to_string().contains(".env"), "{err}");
    }
}
