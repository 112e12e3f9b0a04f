//! The pure decision: environment map → [`StorageConfig`].

use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use cityflow_core::{redact_url, AwsSettings, Error, InputLocation, Result, StaticCredentials};
use cityflow_storage_fs::FsConfig;
use serde::Serialize;

use crate::env::EnvMap;

/// Where the code runs, as the old tool said it: on a developer's machine or in AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Local,
    Aws,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Local => "local",
            Mode::Aws => "aws",
        })
    }
}

/// Why the mode is what it is: the variable that decided, and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeReason {
    /// `CITYFLOW_ENV`, `AWS_EXECUTION_ENV`, `AWS_LAMBDA_FUNCTION_NAME`,
    /// `AWS_LAMBDA_RUNTIME_API`; `None` when nothing was set (the local default).
    pub variable: Option<&'static str>,
    /// Its value, trimmed.
    pub value: String,
}

impl fmt::Display for ModeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.variable {
            Some(v) => write!(f, "{v}={}", self.value),
            None => f.write_str("no AWS variable set"),
        }
    }
}

/// The variables that say "this runs in AWS", in the order they are looked at:
/// `AWS_EXECUTION_ENV` is set by managed runtimes and ECS/Fargate, the other two by every
/// Lambda runtime, the OS-only `provided.al2023` where Rust functions run included (AWS
/// documents `AWS_EXECUTION_ENV` as not defined there).
pub const AWS_MARKERS: [&str; 3] = [
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_RUNTIME_API",
];

/// The mode and why: `CITYFLOW_ENV` (`aws` | `local`, trimmed, case-insensitive) when set,
/// else AWS when any of [`AWS_MARKERS`] is set and non-empty, else local. Pure: the CLI, the
/// Lambda function and the API all decide with this one function.
pub fn decide_mode(env: &EnvMap) -> Result<(Mode, ModeReason)> {
    if let Some(value) = get(env, "CITYFLOW_ENV") {
        let mode = match value.to_ascii_lowercase().as_str() {
            "aws" => Mode::Aws,
            "local" => Mode::Local,
            _ => {
                return Err(Error::config(
                    "CITYFLOW_ENV",
                    format!("unknown value {value:?}; valid values: aws, local"),
                ))
            }
        };
        let reason = ModeReason {
            variable: Some("CITYFLOW_ENV"),
            value: value.to_string(),
        };
        return Ok((mode, reason));
    }
    for variable in AWS_MARKERS {
        if let Some(value) = get(env, variable) {
            let reason = ModeReason {
                variable: Some(variable),
                value: value.to_string(),
            };
            return Ok((Mode::Aws, reason));
        }
    }
    Ok((
        Mode::Local,
        ModeReason {
            variable: None,
            value: String::new(),
        },
    ))
}

/// Where the CSV report goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CsvBackend {
    /// `$OUTPUT_DIR/reports`.
    LocalDir,
    /// `s3://$S3_REPORTS_BUCKET/$S3_REPORTS_PREFIX/`.
    S3,
}

/// Where the JSON report goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonBackend {
    /// `$OUTPUT_DIR/reports/daily_report_D.json`, the embedded default.
    File,
    MongoDb,
    DynamoDb,
}

impl JsonBackend {
    /// The valid values of `DATABASE_TYPE`.
    pub const VALID: &'static str = "mongodb, dynamodb, file";

    /// The name users know, upper case as the old tool printed it.
    pub fn label(self) -> &'static str {
        match self {
            JsonBackend::File => "FILE",
            JsonBackend::MongoDb => "MONGODB",
            JsonBackend::DynamoDb => "DYNAMODB",
        }
    }
}

/// MongoDB settings (`MONGODB_URL`, `MONGODB_DATABASE`).
#[derive(Clone, PartialEq, Eq)]
pub struct MongoSettings {
    /// The connection string; may hold a password: print [`MongoSettings::redacted_url`].
    pub url: String,
    pub database: String,
    /// `MONGODB_TIMEOUT_MS`: bound on server selection and connection, per attempt.
    pub timeout: std::time::Duration,
    /// `MONGODB_MAX_ATTEMPTS`: attempts per operation (transient failures are retried).
    pub max_attempts: u32,
}

impl MongoSettings {
    pub const DEFAULT_URL: &'static str = "mongodb://localhost:27017/";
    pub const DEFAULT_DATABASE: &'static str = "cityflow";
    pub const DEFAULT_TIMEOUT_MS: u64 = 3000;
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

    /// The URL with any password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl fmt::Debug for MongoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoSettings")
            .field("url", &self.redacted_url())
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// Everything the factory decided from the environment, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    pub mode: Mode,
    /// The variable that decided the mode.
    pub mode_reason: ModeReason,
    pub csv: CsvBackend,
    pub json: JsonBackend,
    pub fs: FsConfig,
    pub mongo: MongoSettings,
    pub aws: AwsSettings,
    /// `METRICS_DIR`: a directory or `s3://bucket/prefix`; default `$OUTPUT_DIR/metrics`
    /// in local mode, `s3://$S3_REPORTS_BUCKET/metrics` in AWS mode.
    pub metrics_dir: InputLocation,
    /// `CITYFLOW_RAW`: the root of the old tool's raw layout (`api/bikes/dt=D/`,
    /// `api/weather/dt=D/`, `batch/`), a directory or `s3://bucket/prefix`; default
    /// `s3://$S3_REPORTS_BUCKET/raw` in AWS mode, none in local mode.
    pub raw_dir: Option<InputLocation>,
    /// `REPORT_DATE`, when set.
    pub report_date: Option<NaiveDate>,
}

/// One variable as `cityflow env` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableReport {
    pub name: &'static str,
    /// The value in effect (defaults applied, secrets redacted).
    pub value: String,
    /// Whether the value comes from the environment (or `.env`) rather than the default.
    pub set: bool,
}

/// A trimmed, non-empty value of `name`.
fn get<'a>(env: &'a EnvMap, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn flag(env: &EnvMap, name: &str) -> Result<bool> {
    match get(env, name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) => match v.as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(Error::config(
                name,
                format!(
                    "unknown value {:?}; valid values: true, false (also 1/0, yes/no, on/off)",
                    env[name]
                ),
            )),
        },
    }
}

impl StorageConfig {
    /// Decides mode and targets from `env` and validates every setting. Pure: no I/O.
    pub fn from_env(env: &EnvMap) -> Result<Self> {
        let (mode, mode_reason) = decide_mode(env)?;
        let use_s3 = flag(env, "USE_S3")?;
        let use_dynamodb = flag(env, "USE_DYNAMODB")?;
        let database_type = match get(env, "DATABASE_TYPE").map(|v| v.to_ascii_lowercase()) {
            None => JsonBackend::File,
            Some(v) => match v.as_str() {
                "mongodb" => JsonBackend::MongoDb,
                "dynamodb" => JsonBackend::DynamoDb,
                "file" => JsonBackend::File,
                _ => {
                    return Err(Error::config(
                        "DATABASE_TYPE",
                        format!(
                            "unknown value {:?}; valid values: {}",
                            env["DATABASE_TYPE"],
                            JsonBackend::VALID
                        ),
                    ))
                }
            },
        };

        let (csv, json) = if mode == Mode::Aws {
            (CsvBackend::S3, JsonBackend::DynamoDb)
        } else {
            let csv = if use_s3 {
                CsvBackend::S3
            } else {
                CsvBackend::LocalDir
            };
            let json = if use_dynamodb {
                JsonBackend::DynamoDb
            } else {
                database_type
            };
            (csv, json)
        };

        let fs = FsConfig::from_env(env)?;
        let mongo = MongoSettings {
            url: get(env, "MONGODB_URL")
                .unwrap_or(MongoSettings::DEFAULT_URL)
                .to_string(),
            database: get(env, "MONGODB_DATABASE")
                .unwrap_or(MongoSettings::DEFAULT_DATABASE)
                .to_string(),
            // At most one hour.
            timeout: std::time::Duration::from_millis(number_in(
                env,
                "MONGODB_TIMEOUT_MS",
                MongoSettings::DEFAULT_TIMEOUT_MS,
                1..=3_600_000,
                "milliseconds",
            )?),
            max_attempts: number_in(
                env,
                "MONGODB_MAX_ATTEMPTS",
                MongoSettings::DEFAULT_MAX_ATTEMPTS,
                1..=10,
                "attempts",
            )?,
        };
        validate_mongo(&mongo)?;
        let aws =
            AwsSettings {
                region: get(env, "AWS_REGION")
                    .unwrap_or(AwsSettings::DEFAULT_REGION)
                    .to_string(),
                dynamodb_table: get(env, "DYNAMODB_REPORTS_TABLE")
                    .unwrap_or(AwsSettings::DEFAULT_TABLE)
                    .to_string(),
                s3_bucket: get(env, "S3_REPORTS_BUCKET")
                    .unwrap_or(AwsSettings::DEFAULT_BUCKET)
                    .to_string(),
                s3_prefix: validate_prefix(
                    env.get("S3_REPORTS_PREFIX")
                        .map(|s| s.trim())
                        .unwrap_or(AwsSettings::DEFAULT_PREFIX),
                )?,
                ttl_days: number_in(
                    env,
                    "REPORT_TTL_DAYS",
                    AwsSettings::DEFAULT_TTL_DAYS,
                    1..=36_500,
                    "days",
                )?,
                endpoint_url: endpoint(env, "AWS_ENDPOINT_URL")?,
                endpoint_url_s3: endpoint(env, "AWS_ENDPOINT_URL_S3")?,
                endpoint_url_dynamodb: endpoint(env, "AWS_ENDPOINT_URL_DYNAMODB")?,
                credentials: match (
                    get(env, "AWS_ACCESS_KEY_ID"),
                    get(env, "AWS_SECRET_ACCESS_KEY"),
                ) {
                    (Some(id), Some(secret)) => Some(StaticCredentials {
                        access_key_id: id.to_string(),
                        secret_access_key: secret.to_string(),
                        session_token: get(env, "AWS_SESSION_TOKEN").map(str::to_string),
                    }),
                    (None, None) => None,
                    _ => return Err(Error::config(
                        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
                        "set both or neither (neither: the SDK's default chain finds credentials)",
                    )),
                },
            };
        validate_aws(&aws)?;

        let metrics_dir = match get(env, "METRICS_DIR") {
            Some(dir) => InputLocation::parse(dir).map_err(|m| Error::config("METRICS_DIR", m))?,
            // In AWS only /tmp is writable and inputs arrive in S3, beside the reports.
            None if mode == Mode::Aws => InputLocation::S3 {
                bucket: aws.s3_bucket.clone(),
                prefix: "metrics".into(),
            },
            None => InputLocation::Dir(
                fs.reports_dir
                    .parent()
                    .map(|p| p.join("metrics"))
                    .unwrap_or_else(|| PathBuf::from("output/metrics")),
            ),
        };
        let raw_dir = match get(env, "CITYFLOW_RAW") {
            Some(dir) => {
                Some(InputLocation::parse(dir).map_err(|m| Error::config("CITYFLOW_RAW", m))?)
            }
            None if mode == Mode::Aws => Some(InputLocation::S3 {
                bucket: aws.s3_bucket.clone(),
                prefix: "raw".into(),
            }),
            None => None,
        };
        let report_date = get(env, "REPORT_DATE")
            .map(|d| cityflow_core::parse_date(d).map_err(|m| Error::config("REPORT_DATE", m)))
            .transpose()?;

        Ok(StorageConfig {
            mode,
            mode_reason,
            csv,
            json,
            fs,
            mongo,
            aws,
            metrics_dir,
            raw_dir,
            report_date,
        })
    }

    /// Where the CSV goes, for people: `Répertoire local (output/reports/)`,
    /// `S3 Bucket (s3://cityflow-reports/reports/)`.
    pub fn csv_target(&self) -> String {
        match self.csv {
            CsvBackend::LocalDir => {
                format!("Répertoire local ({}/)", self.fs.reports_dir.display())
            }
            CsvBackend::S3 => format!("S3 Bucket ({})", self.s3_location_prefix()),
        }
    }

    /// Where the JSON goes, for people, secrets redacted.
    pub fn json_target(&self) -> String {
        match self.json {
            JsonBackend::File => format!("FILE ({}/)", self.fs.reports_dir.display()),
            JsonBackend::MongoDb => format!(
                "MONGODB ({} database {}, collection reports)",
                self.mongo.redacted_url(),
                self.mongo.database
            ),
            JsonBackend::DynamoDb => match self.aws.dynamodb_endpoint() {
                Some(e) => format!("DYNAMODB (table {} at {e})", self.aws.dynamodb_table),
                None => format!(
                    "DYNAMODB (table {} in {})",
                    self.aws.dynamodb_table, self.aws.region
                ),
            },
        }
    }

    /// The S3 prefix of the maps, beside the reports': `reports` → `maps`,
    /// `daily/reports` → `daily/maps`, none → `maps`.
    pub fn maps_prefix(&self) -> String {
        match self.aws.s3_prefix.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/maps"),
            None => "maps".to_string(),
        }
    }

    /// Where the maps go, for people: `Répertoire local (output/maps/)`,
    /// `S3 Bucket (s3://cityflow-reports/maps/)`.
    pub fn maps_target(&self) -> String {
        match self.csv {
            CsvBackend::LocalDir => {
                format!("Répertoire local ({}/)", self.fs.maps_dir.display())
            }
            CsvBackend::S3 => format!(
                "S3 Bucket (s3://{}/{}/)",
                self.aws.s3_bucket,
                self.maps_prefix()
            ),
        }
    }

    fn s3_location_prefix(&self) -> String {
        if self.aws.s3_prefix.is_empty() {
            format!("s3://{}/", self.aws.s3_bucket)
        } else {
            format!("s3://{}/{}/", self.aws.s3_bucket, self.aws.s3_prefix)
        }
    }

    /// Every variable with the value in effect, for `cityflow env`; secrets redacted.
    pub fn variables(&self, env: &EnvMap) -> Vec<VariableReport> {
        let set = |name: &str| get(env, name).is_some();
        let shown = |name: &'static str, value: String| VariableReport {
            name,
            value,
            set: set(name),
        };
        let raw = |name: &'static str, default: &str| {
            shown(name, get(env, name).unwrap_or(default).to_string())
        };
        vec![
            raw("CITYFLOW_ENV", ""),
            raw("AWS_EXECUTION_ENV", ""),
            raw("AWS_LAMBDA_FUNCTION_NAME", ""),
            raw("AWS_LAMBDA_RUNTIME_API", ""),
            raw("DATABASE_TYPE", "file"),
            raw("USE_S3", "false"),
            raw("USE_DYNAMODB", "false"),
            raw("OUTPUT_DIR", FsConfig::DEFAULT_OUTPUT_DIR),
            shown("METRICS_DIR", self.metrics_dir.to_string()),
            shown(
                "CITYFLOW_RAW",
                self.raw_dir
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            raw("REPORT_DATE", ""),
            shown("MONGODB_URL", self.mongo.redacted_url()),
            shown("MONGODB_DATABASE", self.mongo.database.clone()),
            shown(
                "MONGODB_TIMEOUT_MS",
                self.mongo.timeout.as_millis().to_string(),
            ),
            shown("MONGODB_MAX_ATTEMPTS", self.mongo.max_attempts.to_string()),
            shown("AWS_REGION", self.aws.region.clone()),
            shown("DYNAMODB_REPORTS_TABLE", self.aws.dynamodb_table.clone()),
            shown("S3_REPORTS_BUCKET", self.aws.s3_bucket.clone()),
            shown("S3_REPORTS_PREFIX", self.aws.s3_prefix.clone()),
            shown("REPORT_TTL_DAYS", self.aws.ttl_days.to_string()),
            raw("AWS_ENDPOINT_URL", ""),
            raw("AWS_ENDPOINT_URL_S3", ""),
            raw("AWS_ENDPOINT_URL_DYNAMODB", ""),
            raw("AWS_ACCESS_KEY_ID", ""),
            shown(
                "AWS_SECRET_ACCESS_KEY",
                self.aws
                    .credentials
                    .as_ref()
                    .map(|_| "***".to_string())
                    .unwrap_or_default(),
            ),
            shown(
                "AWS_SESSION_TOKEN",
                self.aws
                    .credentials
                    .as_ref()
                    .and_then(|c| c.session_token.as_ref())
                    .map(|_| "***".to_string())
                    .unwrap_or_default(),
            ),
        ]
    }
}

/// An endpoint URL (`http://` or `https://`), when set.
fn endpoint(env: &EnvMap, name: &str) -> Result<Option<String>> {
    match get(env, name) {
        None => Ok(None),
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(Some(url.to_string()))
        }
        Some(url) => Err(Error::config(
            name,
            format!("{:?} is not an http:// or https:// URL", redact_url(url)),
        )),
    }
}

/// A whole number of `unit` within `range`, or `default` when unset.
fn number_in<T>(
    env: &EnvMap,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    let Some(text) = get(env, name) else {
        return Ok(default);
    };
    match text.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(Error::config(
            name,
            format!(
                "{text:?} is not a number of {unit} between {} and {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

fn validate_mongo(m: &MongoSettings) -> Result<()> {
    if !(m.url.starts_with("mongodb://") || m.url.starts_with("mongodb+srv://")) {
        return Err(Error::config(
            "MONGODB_URL",
            format!(
                "{} is not a MongoDB connection string (it must start with mongodb:// or mongodb+srv://)",
                m.redacted_url()
            ),
        ));
    }
    // MongoDB's own rules for database names.
    if m.database.len() > 63 || m.database.contains(['/', '\\', '.', ' ', '"', '$', '\0']) {
        return Err(Error::config(
            "MONGODB_DATABASE",
            format!(
                "{:?} is not a valid database name (at most 63 characters, none of / \\ . space \" $)",
                m.database
            ),
        ));
    }
    Ok(())
}

fn validate_prefix(prefix: &str) -> Result<String> {
    let p = prefix.trim_matches('/');
    if p.is_empty() {
        return Ok(String::new());
    }
    // The prefix becomes part of every key: the key rules apply.
    cityflow_core::BlobKey::new(p)
        .map(|k| k.as_str().to_string())
        .map_err(|e| {
            Error::config(
                "S3_REPORTS_PREFIX",
                format!("{prefix:?} is not a valid key prefix: {e}"),
            )
        })
}

fn validate_aws(a: &AwsSettings) -> Result<()> {
    let b = &a.s3_bucket;
    let bucket_ok = (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && b.as_bytes()[0].is_ascii_alphanumeric()
        && b.as_bytes()[b.len() - 1].is_ascii_alphanumeric();
    if !bucket_ok {
        return Err(Error::config(
            "S3_REPORTS_BUCKET",
            format!("{b:?} is not a valid bucket name (3-63 characters: a-z, 0-9, '-', '.')"),
        ));
    }
    let t = &a.dynamodb_table;
    let table_ok = (3..=255).contains(&t.len())
        && t.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    if !table_ok {
        return Err(Error::config(
            "DYNAMODB_REPORTS_TABLE",
            format!(
                "{t:?} is not a valid table name (3-255 characters: a-z, A-Z, 0-9, '_', '-', '.')"
            ),
        ));
    }
    let r = &a.region;
    if !r
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        return Err(Error::config(
            "AWS_REGION",
            format!("{r:?} is not a region name (e.g. eu-west-3)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityflow_core::ErrorKind;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn decide(pairs: &[(&str, &str)]) -> (Mode, CsvBackend, JsonBackend) {
        let c = StorageConfig::from_env(&env(pairs)).unwrap();
        (c.mode, c.csv, c.json)
    }

    use CsvBackend::*;
    use JsonBackend::*;
    use Mode::*;

    // The decision table, row by row.

    #[test]
    fn row_aws_execution_env_forces_s3_and_dynamodb() {
        assert_eq!(
            decide(&[("AWS_EXECUTION_ENV", "AWS_Lambda_python3.10")]),
            (Aws, S3, DynamoDb)
        );
        // Whatever the local switches say.
        assert_eq!(
            decide(&[
                ("AWS_EXECUTION_ENV", "AWS_ECS_FARGATE"),
                ("DATABASE_TYPE", "mongodb"),
                ("USE_S3", "false"),
            ]),
            (Aws, S3, DynamoDb)
        );
    }

    #[test]
    fn row_lambda_os_only_runtime_is_aws() {
        // provided.al2023, where Rust functions run: no AWS_EXECUTION_ENV, only these.
        for marker in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_RUNTIME_API"] {
            assert_eq!(
                decide(&[(marker, "cityflow-report"), ("DATABASE_TYPE", "mongodb")]),
                (Aws, S3, DynamoDb),
                "{marker}"
            );
        }
        // Exactly what a Rust function gets.
        let lambda = [
            ("AWS_LAMBDA_FUNCTION_NAME", "cityflow-report"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("LAMBDA_TASK_ROOT", "/var/task"),
            ("AWS_REGION", "eu-west-3"),
        ];
        let c = StorageConfig::from_env(&env(&lambda)).unwrap();
        assert_eq!((c.mode, c.csv, c.json), (Aws, S3, DynamoDb));
        assert_eq!(
            c.mode_reason.to_string(),
            "AWS_LAMBDA_FUNCTION_NAME=cityflow-report"
        );
        assert_eq!(c.metrics_dir.to_string(), "s3://cityflow-reports/metrics");
        assert_eq!(
            c.raw_dir.as_ref().map(ToString::to_string).as_deref(),
            Some("s3://cityflow-reports/raw")
        );
        // Empty markers do not count.
        assert_eq!(
            decide(&[
                ("AWS_LAMBDA_FUNCTION_NAME", " "),
                ("AWS_LAMBDA_RUNTIME_API", "")
            ]),
            (Local, LocalDir, File)
        );
    }

    #[test]
    fn row_the_first_marker_set_is_the_reason() {
        let c = StorageConfig::from_env(&env(&[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_rust"),
        ]))
        .unwrap();
        assert_eq!(c.mode_reason.variable, Some("AWS_EXECUTION_ENV"));
        let c = StorageConfig::from_env(&env(&[])).unwrap();
        assert_eq!(c.mode_reason.variable, None);
        assert_eq!(c.mode_reason.to_string(), "no AWS variable set");
    }

    #[test]
    fn row_cityflow_env_decides_over_every_aws_variable() {
        for marker in AWS_MARKERS {
            for local in ["local", " LOCAL ", "Local"] {
                let c = StorageConfig::from_env(&env(&[
                    (marker, "set"),
                    ("CITYFLOW_ENV", local),
                    ("DATABASE_TYPE", "mongodb"),
                ]))
                .unwrap();
                assert_eq!(
                    (c.mode, c.csv, c.json),
                    (Local, LocalDir, MongoDb),
                    "{marker}"
                );
                assert_eq!(c.mode_reason.variable, Some("CITYFLOW_ENV"));
                assert_eq!(c.metrics_dir.to_string(), "output/metrics");
                assert_eq!(c.raw_dir, None);
            }
        }
        let c = StorageConfig::from_env(&env(&[("CITYFLOW_ENV", "AWS")])).unwrap();
        assert_eq!((c.mode, c.csv, c.json), (Aws, S3, DynamoDb));
        assert_eq!(c.mode_reason.to_string(), "CITYFLOW_ENV=AWS");
        // Empty is unset.
        assert_eq!(decide(&[("CITYFLOW_ENV", "  ")]), (Local, LocalDir, File));
    }

    #[test]
    fn row_cityflow_env_with_another_value_is_an_error() {
        for bad in ["prod", "lambda", "aws-local"] {
            let err = StorageConfig::from_env(&env(&[("CITYFLOW_ENV", bad)])).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config);
            let msg = err.to_string();
            assert!(msg.starts_with("CITYFLOW_ENV: "), "{msg}");
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
            assert!(msg.contains("aws, local"), "{msg}");
        }
    }

    #[test]
    fn metrics_dir_is_a_directory_or_an_s3_prefix() {
        let c = StorageConfig::from_env(&env(&[("METRICS_DIR", "s3://in-bucket/daily/")])).unwrap();
        assert_eq!(
            c.metrics_dir,
            InputLocation::S3 {
                bucket: "in-bucket".into(),
                prefix: "daily".into()
            }
        );
        let c = StorageConfig::from_env(&env(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("S3_REPORTS_BUCKET", "my-reports"),
        ]))
        .unwrap();
        assert_eq!(c.metrics_dir.to_string(), "s3://my-reports/metrics");
        let err =
            StorageConfig::from_env(&env(&[("METRICS_DIR", "s3://Bad_Bucket/x")])).unwrap_err();
        assert!(err.to_string().starts_with("METRICS_DIR: "), "{err}");
    }

    #[test]
    fn row_empty_aws_execution_env_is_local() {
        assert_eq!(
            decide(&[("AWS_EXECUTION_ENV", "")]),
            (Local, LocalDir, File)
        );
        assert_eq!(
            decide(&[("AWS_EXECUTION_ENV", "  ")]),
            (Local, LocalDir, File)
        );
    }

    #[test]
    fn row_nothing_set_is_the_embedded_default() {
        assert_eq!(decide(&[]), (Local, LocalDir, File));
        assert_eq!(decide(&[("DATABASE_TYPE", "")]), (Local, LocalDir, File));
    }

    #[test]
    fn row_use_s3_sends_the_csv_to_s3() {
        assert_eq!(decide(&[("USE_S3", "true")]), (Local, S3, File));
        assert_eq!(decide(&[("USE_S3", "TRUE")]), (Local, S3, File));
        assert_eq!(decide(&[("USE_S3", "false")]), (Local, LocalDir, File));
    }

    #[test]
    fn row_database_type_picks_the_json_target() {
        assert_eq!(
            decide(&[("DATABASE_TYPE", "mongodb")]),
            (Local, LocalDir, MongoDb)
        );
        assert_eq!(
            decide(&[("DATABASE_TYPE", "DynamoDB")]),
            (Local, LocalDir, DynamoDb)
        );
        assert_eq!(
            decide(&[("DATABASE_TYPE", "file")]),
            (Local, LocalDir, File)
        );
    }

    #[test]
    fn row_use_dynamodb_forces_dynamodb() {
        assert_eq!(
            decide(&[("USE_DYNAMODB", "true"), ("DATABASE_TYPE", "mongodb")]),
            (Local, LocalDir, DynamoDb)
        );
        assert_eq!(
            decide(&[("USE_DYNAMODB", "false"), ("DATABASE_TYPE", "mongodb")]),
            (Local, LocalDir, MongoDb)
        );
    }

    #[test]
    fn row_aws_simulation_mode() {
        assert_eq!(
            decide(&[("DATABASE_TYPE", "dynamodb"), ("USE_S3", "true")]),
            (Local, S3, DynamoDb)
        );
    }

    #[test]
    fn unknown_values_list_the_valid_ones() {
        let err = StorageConfig::from_env(&env(&[("DATABASE_TYPE", "postgres")])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        let msg = err.to_string();
        assert!(msg.contains("DATABASE_TYPE"), "{msg}");
        assert!(msg.contains("\"postgres\""), "{msg}");
        assert!(msg.contains("mongodb, dynamodb, file"), "{msg}");

        let msg = StorageConfig::from_env(&env(&[("USE_S3", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("USE_S3") && msg.contains("true, false"),
            "{msg}"
        );
        assert!(StorageConfig::from_env(&env(&[("USE_DYNAMODB", "oui")])).is_err());
    }

    #[test]
    fn defaults_are_the_seeds() {
        let c = StorageConfig::from_env(&env(&[])).unwrap();
        assert_eq!(c.mongo.url, "mongodb://localhost:27017/");
        assert_eq!(c.mongo.database, "cityflow");
        assert_eq!(c.mongo.timeout, std::time::Duration::from_secs(3));
        assert_eq!(c.mongo.max_attempts, 3);
        assert_eq!(c.aws.region, "us-east-1");
        assert_eq!(c.aws.dynamodb_table, "cityflow-daily-reports");
        assert_eq!(c.aws.s3_bucket, "cityflow-reports");
        assert_eq!(c.aws.s3_prefix, "reports");
        assert_eq!(c.fs.reports_dir, PathBuf::from("output/reports"));
        assert_eq!(c.fs.maps_dir, PathBuf::from("output/maps"));
        assert_eq!(c.maps_prefix(), "maps");
        assert_eq!(c.metrics_dir, InputLocation::Dir("output/metrics".into()));
        assert_eq!(c.report_date, None);
        assert_eq!(c.csv_target(), "Répertoire local (output/reports/)");
        assert_eq!(c.json_target(), "FILE (output/reports/)");
    }

    #[test]
    fn settings_are_validated() {
        for (name, value) in [
            ("MONGODB_URL", "http://localhost"),
            ("MONGODB_DATABASE", "a.b"),
            ("S3_REPORTS_BUCKET", "Not_A_Bucket"),
            ("S3_REPORTS_PREFIX", "../../etc"),
            ("S3_REPORTS_PREFIX", "a//b"),
            ("DYNAMODB_REPORTS_TABLE", "x"),
            ("AWS_REGION", "eu west"),
            ("MONGODB_TIMEOUT_MS", "0"),
            ("MONGODB_MAX_ATTEMPTS", "0"),
            ("MONGODB_MAX_ATTEMPTS", "three"),
            ("REPORT_TTL_DAYS", "0"),
            ("AWS_ENDPOINT_URL", "localhost:4566"),
            ("AWS_ACCESS_KEY_ID", "AKID-without-secret"),
            ("MONGODB_TIMEOUT_MS", "5s"),
            ("REPORT_DATE", "2025-13-01"),
            ("REPORT_DATE", "04/11/2025"),
        ] {
            let err = StorageConfig::from_env(&env(&[(name, value)])).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{name}={value}");
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
        let c = StorageConfig::from_env(&env(&[
            ("S3_REPORTS_PREFIX", "/daily/reports/"),
            ("REPORT_DATE", "2025-11-04"),
            ("OUTPUT_DIR", "/srv/cf"),
        ]))
        .unwrap();
        assert_eq!(c.aws.s3_prefix, "daily/reports");
        assert_eq!(c.report_date, NaiveDate::from_ymd_opt(2025, 11, 4));
        assert_eq!(c.metrics_dir, InputLocation::Dir("/srv/cf/metrics".into()));
    }

    #[test]
    fn secrets_never_show() {
        let e = env(&[
            (
                "MONGODB_URL",
                "mongodb://admin:hunter2@db:27017/?authSource=admin",
            ),
            ("DATABASE_TYPE", "mongodb"),
        ]);
        let c = StorageConfig::from_env(&e).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.json_target().contains("hunter2"));
        assert!(c.json_target().contains("admin:***@db:27017"));
        for v in c.variables(&e) {
            assert!(!v.value.contains("hunter2"), "{v:?}");
        }
        let e = env(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "canary-aws-secret"),
            ("AWS_SESSION_TOKEN", "canary-aws-token"),
        ]);
        let c = StorageConfig::from_env(&e).unwrap();
        let shown = format!("{c:?} {:?}", c.variables(&e));
        assert!(!shown.contains("canary-aws-secret"), "{shown}");
        assert!(!shown.contains("canary-aws-token"), "{shown}");
        assert!(shown.contains("AKIDEXAMPLE"));
        let bad = env(&[("MONGODB_URL", "mongo://admin:hunter2@db/")]);
        let msg = StorageConfig::from_env(&bad).unwrap_err().to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}
