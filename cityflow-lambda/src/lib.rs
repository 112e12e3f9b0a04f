//! # cityflow-lambda
//!
//! The daily report as an AWS Lambda function (`cityflow-report-lambda`, on
//! `provided.al2023`): an EventBridge schedule builds yesterday's report, S3 notifications
//! rebuild a day when its metrics land (or every day of a raw export), and direct
//! invocations build a date or a range. A thin adapter: [`event::plan`] reads the event, the
//! `cityflow-pipeline` functions build and export, and [`Function::handle`] answers one entry
//! per date. It has no export logic of its own.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let env = cityflow_storage::load_env(None)?;
//! let function = cityflow_lambda::Function::from_env(&env).await?;
//! let summary = function.handle(&serde_json::json!({"date": "2025-11-04"})).await?;
//! println!("{}", serde_json::to_string(&summary)?);
//! # Ok(()) }
//! ```

pub mod backfill;
pub mod event;

use std::sync::Arc;

use chrono::NaiveDate;
use cityflow_core::{report_id, BlobKey, InputLocation, InputSource};
use cityflow_ingest::{DaySelection, NoProgress};
use cityflow_pipeline::{
    dry_run_days, export_comptages, export_days, metrics_day, read_comptages, read_raw_days,
    DayExport, History, RawRequest, TargetOutcome,
};
use cityflow_storage::{EnvMap, JsonBackend, Storage, StorageConfig};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

pub use event::{plan, BadEvent, Inputs, Job, Plan};

/// Why an invocation failed. Lambda retries a failed asynchronous invocation and sends it to
/// the dead-letter queue at last; the message names what failed.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    /// The event cannot be used: nothing was written.
    #[error("bad event: {0}")]
    BadEvent(#[from] BadEvent),
    /// An input or the configuration is wrong (a malformed metrics file, no metrics for the
    /// day, a missing export): nothing was written for that day.
    #[error("{0}")]
    Input(cityflow_core::Error),
    /// A target failed for at least one date; `summary` says which, date by date.
    #[error("{failed} of {total} date(s) failed: {first}")]
    Export {
        failed: usize,
        total: usize,
        first: String,
        summary: Box<Summary>,
    },
}

impl InvocationError {
    /// The error type Lambda reports (`errorType`): `BadEvent`, `InputError` or
    /// `ExportFailed`.
    pub fn error_type(&self) -> &'static str {
        match self {
            InvocationError::BadEvent(_) => "BadEvent",
            InvocationError::Input(_) => "InputError",
            InvocationError::Export { .. } => "ExportFailed",
        }
    }
}

/// What happened to one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Exported,
    Skipped,
    Failed,
}

/// One date of the answer: its status and both of its locations, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateResult {
    pub date: NaiveDate,
    pub status: Status,
    /// `s3://bucket/reports/daily_report_D.csv`.
    pub csv: String,
    /// `dynamodb://table/daily_report_D`.
    pub json: String,
    /// `s3://bucket/maps/daily_map_D.svg`, when the day's map was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    /// Why it was skipped or failed; the warnings of its inputs when exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The answer of an invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// `scheduled`, `direct` or `s3`.
    pub trigger: &'static str,
    pub dry_run: bool,
    /// One entry per date, sorted by date.
    pub dates: Vec<DateResult>,
}

/// The function's state, built once at init: configuration resolved, clients configured (they
/// connect on first use), inputs located.
#[derive(Debug)]
pub struct Function {
    config: StorageConfig,
    storage: Storage,
    inputs: Inputs,
    metrics: Arc<dyn InputSource>,
}

impl Function {
    /// Resolves everything from `env`: a configuration error stops the function at init,
    /// before any event.
    pub async fn from_env(env: &EnvMap) -> cityflow_core::Result<Function> {
        let config = StorageConfig::from_env(env)?;
        let comptages_prefix = env
            .get("COMPTAGES_S3_PREFIX")
            .map(|p| p.trim().trim_matches('/').to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "comptages".into());
        cityflow_core::BlobKey::new(&comptages_prefix).map_err(|e| {
            cityflow_core::Error::config(
                "COMPTAGES_S3_PREFIX",
                format!("{comptages_prefix:?}: {e}"),
            )
        })?;
        let storage = cityflow_storage::build(&config).await?;
        let metrics =
            cityflow_storage::input_source(&config, &config.metrics_dir, "metrics directory")?;
        Ok(Function {
            inputs: Inputs {
                metrics: config.metrics_dir.clone(),
                comptages_prefix,
                raw: config.raw_dir.clone(),
            },
            config,
            storage,
            metrics,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// Serves one event; see the crate docs. `Ok` only when every target of every date
    /// succeeded (or the date was skipped).
    pub async fn handle(&self, event: &Value) -> Result<Summary, InvocationError> {
        let plan = event::plan(event, &self.inputs)?;
        tracing::info!(
            trigger = plan.trigger,
            jobs = plan.jobs.len(),
            dry_run = plan.dry_run,
            "event accepted"
        );
        let mut dates = Vec::new();
        // One invocation's days compare with each other before the store is asked.
        let history = History::new();
        let raw_days: Vec<NaiveDate> = plan
            .jobs
            .iter()
            .filter_map(|j| match j {
                Job::Raw(d) => Some(*d),
                _ => None,
            })
            .collect();
        if !raw_days.is_empty() {
            dates.extend(self.raw(&raw_days, plan.dry_run, &history).await?);
        }
        for job in &plan.jobs {
            match job {
                Job::Raw(_) => {}
                Job::Metrics(date) => {
                    dates.push(self.metrics_date(*date, plan.dry_run, &history).await?)
                }
                Job::Comptages { url, dates: range } => {
                    dates.extend(self.comptages(url, *range, plan.dry_run, &history).await?)
                }
                Job::Skipped { date, reason } => {
                    dates.push(self.result(*date, Status::Skipped, Some(reason.clone())))
                }
            }
        }
        dates.sort_by_key(|d| d.date);
        let summary = Summary {
            trigger: plan.trigger,
            dry_run: plan.dry_run,
            dates,
        };
        let failed: Vec<&DateResult> = summary
            .dates
            .iter()
            .filter(|d| d.status == Status::Failed)
            .collect();
        if let Some(first) = failed.first() {
            return Err(InvocationError::Export {
                failed: failed.len(),
                total: summary.dates.len(),
                first: format!(
                    "{}: {}",
                    first.date,
                    first.reason.as_deref().unwrap_or("failed")
                ),
                summary: Box::new(summary.clone()),
            });
        }
        Ok(summary)
    }

    async fn metrics_date(
        &self,
        date: NaiveDate,
        dry_run: bool,
        history: &History,
    ) -> Result<DateResult, InvocationError> {
        self.metrics_date_logged(date, dry_run, history)
            .instrument(tracing::info_span!("date", %date))
            .await
    }

    async fn metrics_date_logged(
        &self,
        date: NaiveDate,
        dry_run: bool,
        history: &History,
    ) -> Result<DateResult, InvocationError> {
        // A day whose inputs are wrong fails alone; the other days of a range go on.
        let day = match metrics_day(&self.storage, &*self.metrics, date, dry_run, history).await {
            Ok(day) => day,
            Err(e) => {
                tracing::error!("{e}");
                return Ok(self.result(date, Status::Failed, Some(e.to_string())));
            }
        };
        Ok(match day.export {
            None => self.result(
                date,
                Status::Skipped,
                Some("dry run: nothing written".into()),
            ),
            Some(export) => self.exported(&export),
        })
    }

    async fn comptages(
        &self,
        url: &str,
        range: Option<(NaiveDate, NaiveDate)>,
        dry_run: bool,
        history: &History,
    ) -> Result<Vec<DateResult>, InvocationError> {
        let (location, name) = InputLocation::parse_file(url)
            .map_err(|m| InvocationError::BadEvent(BadEvent(format!("{url}: {m}"))))?;
        let source = cityflow_storage::input_source(&self.config, &location, "directory")
            .map_err(InvocationError::Input)?;
        let selection = match range {
            Some((from, to)) if from == to => DaySelection::One(from),
            Some((from, to)) => DaySelection::Range(from, to),
            None => DaySelection::All,
        };
        let read = read_comptages(&*source, &name, selection, Arc::new(NoProgress))
            .await
            .map_err(InvocationError::Input)?;
        if dry_run {
            cityflow_pipeline::dry_run_comptages(&read, Some(&*self.metrics))
                .await
                .map_err(InvocationError::Input)?;
            return Ok(read
                .days
                .iter()
                .map(|d| self.result(*d, Status::Skipped, Some("dry run: nothing written".into())))
                .collect());
        }
        let done = export_comptages(
            &self.storage,
            &read,
            Some(self.metrics.clone()),
            4,
            history,
            &|_| {},
        )
        .await;
        Ok(done.exports.iter().map(|e| self.exported(e)).collect())
    }

    /// The reports of `days` from the raw layout (`CITYFLOW_RAW`), read once for all of them,
    /// each section from metrics where the layout has nothing for it.
    async fn raw(
        &self,
        days: &[NaiveDate],
        dry_run: bool,
        history: &History,
    ) -> Result<Vec<DateResult>, InvocationError> {
        let request = RawRequest {
            layout: self.config.raw_dir.clone(),
            ..RawRequest::default()
        };
        let run = read_raw_days(&self.config, &request, days)
            .await
            .map_err(InvocationError::Input)?;
        for w in &run.warnings {
            tracing::warn!("{w}");
        }
        let inputs = run.inputs(Some(&*self.metrics));
        if dry_run {
            dry_run_days(&inputs, &run.days)
                .await
                .map_err(InvocationError::Input)?;
            return Ok(run
                .days
                .iter()
                .map(|d| self.result(*d, Status::Skipped, Some("dry run: nothing written".into())))
                .collect());
        }
        let done = export_days(&self.storage, &inputs, &run.days, 4, history, &|_| {}).await;
        Ok(done.exports.iter().map(|e| self.exported(e)).collect())
    }

    fn exported(&self, export: &DayExport) -> DateResult {
        let failures: Vec<String> = [Some(&export.csv), Some(&export.json), export.map.as_ref()]
            .into_iter()
            .flatten()
            .filter(|o| !o.ok)
            .map(|o: &TargetOutcome| {
                format!(
                    "{} to {} failed: {}",
                    o.format.to_uppercase(),
                    o.target,
                    o.error.as_deref().unwrap_or("")
                )
            })
            .collect();
        let (status, reason) = match (failures.is_empty(), export.superseded()) {
            (false, _) => (Status::Failed, Some(failures.join("; "))),
            (true, Some(why)) => (Status::Skipped, Some(why.to_string())),
            (true, None) => (
                Status::Exported,
                (!export.warnings.is_empty()).then(|| export.warnings.join("; ")),
            ),
        };
        DateResult {
            map: export.map.as_ref().and_then(|m| m.location.clone()),
            ..self.result(export.date, status, reason)
        }
    }

    fn result(&self, date: NaiveDate, status: Status, reason: Option<String>) -> DateResult {
        DateResult {
            date,
            status,
            csv: self.storage.blobs.location(&BlobKey::report_csv(date)),
            json: match self.storage.json_backend {
                JsonBackend::DynamoDb => {
                    format!(
                        "dynamodb://{}/{}",
                        self.config.aws.dynamodb_table,
                        report_id(date)
                    )
                }
                _ => format!("{} ({})", self.storage.reports.describe(), report_id(date)),
            },
            map: None,
            reason,
        }
    }
}

/// JSON lines on stdout (CloudWatch keeps them per request): timestamp, level, the span's
/// request id and date, the message. `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .map(|l| l.to_ascii_lowercase())
        .unwrap_or_else(|_| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
}
