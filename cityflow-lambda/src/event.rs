//! What an invocation asks for: the event's shape → a plan of days to build.
//!
//! Pure functions of the event and the function's configuration, so that every shape, date
//! rule and refusal is tested without a server.

use std::collections::BTreeSet;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use chrono::{DateTime, NaiveDate, Utc};
use cityflow_core::{parse_date, InputLocation, MetricsKind};
use serde::Deserialize;
use serde_json::Value;

/// The longest range a direct invocation may ask for: a month fits in a function's timeout.
pub const MAX_RANGE_DAYS: i64 = 31;

/// Why an event is refused: nothing is written, the invocation fails with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadEvent(pub String);

fn bad(message: impl Into<String>) -> BadEvent {
    BadEvent(message.into())
}

/// Where the function's inputs are, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// `METRICS_DIR`: in AWS, `s3://$S3_REPORTS_BUCKET/metrics` by default.
    pub metrics: InputLocation,
    /// `COMPTAGES_S3_PREFIX` (default `comptages`): raw exports landing under it, in the
    /// metrics bucket, rebuild every day they cover.
    pub comptages_prefix: String,
    /// `CITYFLOW_RAW` (in AWS, `s3://$S3_REPORTS_BUCKET/raw` by default): the old tool's raw
    /// layout, read by the scheduled run; uploads under it rebuild their days.
    pub raw: Option<InputLocation>,
}

/// One piece of work of an invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// The report of a day from its metrics files.
    Metrics(NaiveDate),
    /// The report of a day from the raw layout (`CITYFLOW_RAW`), each section from metrics
    /// where the layout has no input for it.
    Raw(NaiveDate),
    /// The reports of the days of a raw export (`dates` = None: every day it covers).
    Comptages {
        url: String,
        dates: Option<(NaiveDate, NaiveDate)>,
    },
    /// An input that feeds no report: said, not built.
    Skipped { date: NaiveDate, reason: String },
}

/// What an invocation will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The shape that was recognised, for logs: `scheduled`, `direct`, `s3`.
    pub trigger: &'static str,
    pub jobs: Vec<Job>,
    pub dry_run: bool,
}

/// Reads `event`: an EventBridge scheduled event, a direct invocation or an S3 notification.
pub fn plan(event: &Value, inputs: &Inputs) -> Result<Plan, BadEvent> {
    let Some(object) = event.as_object() else {
        return Err(unknown_shape(event));
    };
    if object.contains_key("Records") {
        return s3_plan(event, inputs);
    }
    if object.contains_key("detail-type") {
        return scheduled_plan(event, inputs);
    }
    if ["date", "from", "to", "comptages", "dry_run"]
        .iter()
        .any(|k| object.contains_key(*k))
    {
        return direct_plan(event);
    }
    Err(unknown_shape(event))
}

fn unknown_shape(event: &Value) -> BadEvent {
    let keys = match event.as_object() {
        Some(o) => format!(
            "an object with keys {:?}",
            o.keys().map(String::as_str).collect::<Vec<_>>()
        ),
        None => "not a JSON object".to_string(),
    };
    bad(format!(
        "unknown event shape ({keys}); expected an EventBridge scheduled event \
         (\"detail-type\": \"Scheduled Event\"), a direct invocation \
         ({{\"date\": \"YYYY-MM-DD\"}} or {{\"from\": …, \"to\": …}}, optionally \"comptages\": \
         \"s3://…\" and \"dry_run\": true) or an S3 notification (\"Records\")"
    ))
}

/// The day a run at `instant` reports on: the day before, in Europe/Paris.
pub fn report_day_of(instant: DateTime<Utc>) -> NaiveDate {
    let local = instant
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    local.pred_opt().unwrap_or(local)
}

fn scheduled_plan(event: &Value, inputs: &Inputs) -> Result<Plan, BadEvent> {
    let e: EventBridgeEvent<Value> = serde_json::from_value(event.clone())
        .map_err(|e| bad(format!("malformed EventBridge event: {e}")))?;
    if e.detail_type != "Scheduled Event" {
        return Err(bad(format!(
            "EventBridge event of type {:?}; only \"Scheduled Event\" is handled",
            e.detail_type
        )));
    }
    let time = e
        .time
        .ok_or_else(|| bad("scheduled event without \"time\""))?;
    let day = report_day_of(time);
    Ok(Plan {
        trigger: "scheduled",
        jobs: vec![if inputs.raw.is_some() {
            Job::Raw(day)
        } else {
            Job::Metrics(day)
        }],
        dry_run: false,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Direct {
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
    comptages: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

fn date_field(name: &str, text: &str) -> Result<NaiveDate, BadEvent> {
    parse_date(text).map_err(|m| bad(format!("\"{name}\": {m}")))
}

fn direct_plan(event: &Value) -> Result<Plan, BadEvent> {
    let d: Direct = serde_json::from_value(event.clone()).map_err(|e| {
        bad(format!(
            "direct invocation: {e}; expected {{\"date\": \"YYYY-MM-DD\"}} or {{\"from\": …, \
             \"to\": …}}, optionally \"comptages\" and \"dry_run\""
        ))
    })?;
    let (from, to) = match (&d.date, &d.from, &d.to) {
        (Some(date), None, None) => {
            let date = date_field("date", date)?;
            (date, date)
        }
        (None, Some(from), Some(to)) => {
            let (from, to) = (date_field("from", from)?, date_field("to", to)?);
            if from > to {
                return Err(bad(format!("\"from\" {from} is after \"to\" {to}")));
            }
            let days = (to - from).num_days() + 1;
            if days > MAX_RANGE_DAYS {
                return Err(bad(format!(
                    "the range {from} to {to} has {days} days; at most {MAX_RANGE_DAYS} per \
                     invocation (invoke once per month to backfill)"
                )));
            }
            (from, to)
        }
        _ => {
            return Err(bad(
                "give either \"date\", or both \"from\" and \"to\" (not both kinds)",
            ))
        }
    };
    let jobs = match d.comptages {
        Some(url) => {
            if !url.starts_with("s3://") {
                return Err(bad(format!(
                    "\"comptages\": {url:?} is not an s3:// URL (the function reads S3)"
                )));
            }
            InputLocation::parse_file(&url).map_err(|m| bad(format!("\"comptages\": {m}")))?;
            vec![Job::Comptages {
                url,
                dates: Some((from, to)),
            }]
        }
        None => from
            .iter_days()
            .take_while(|d| *d <= to)
            .map(Job::Metrics)
            .collect(),
    };
    Ok(Plan {
        trigger: "direct",
        jobs,
        dry_run: d.dry_run,
    })
}

/// An S3 key as notifications carry it: URL-encoded, `+` for a space.
pub fn decode_key(key: &str) -> Result<String, BadEvent> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = key
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad(format!("S3 key {key:?}: bad %-escape at byte {i}")))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad(format!("S3 key {key:?} is not UTF-8 once decoded")))
}

fn s3_plan(event: &Value, inputs: &Inputs) -> Result<Plan, BadEvent> {
    let e: S3Event = serde_json::from_value(event.clone())
        .map_err(|e| bad(format!("malformed S3 notification: {e}")))?;
    let InputLocation::S3 { bucket, prefix } = &inputs.metrics else {
        return Err(bad(format!(
            "an S3 notification, but METRICS_DIR is {} (not s3://): S3 events cannot be mapped",
            inputs.metrics
        )));
    };
    let metrics_prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let comptages_prefix = format!("{}/", inputs.comptages_prefix.trim_matches('/'));
    // The raw layout, when it is in S3: (bucket, `prefix/`).
    let raw = match &inputs.raw {
        Some(InputLocation::S3 { bucket, prefix }) if prefix.is_empty() => {
            Some((bucket.clone(), String::new()))
        }
        Some(InputLocation::S3 { bucket, prefix }) => Some((bucket.clone(), format!("{prefix}/"))),
        _ => None,
    };
    let mut raw_dates = BTreeSet::new();
    let mut dates = BTreeSet::new();
    let mut objects = BTreeSet::new();
    let mut skipped = Vec::new();
    for record in &e.records {
        let name = record.event_name.as_deref().unwrap_or("");
        if !name.starts_with("ObjectCreated:") {
            return Err(bad(format!(
                "S3 event {name:?}: only ObjectCreated notifications are handled"
            )));
        }
        let record_bucket = record.s3.bucket.name.as_deref().unwrap_or("");
        if let Some((raw_bucket, raw_prefix)) = &raw {
            let key = decode_key(record.s3.object.key.as_deref().unwrap_or(""))?;
            if record_bucket == raw_bucket && key.starts_with(raw_prefix.as_str()) {
                let event_time = record.event_time;
                raw_dates.extend(raw_days(&key[raw_prefix.len()..], &key, event_time)?);
                continue;
            }
        }
        if record_bucket != bucket {
            return Err(bad(format!(
                "S3 notification from bucket {record_bucket:?}; this function reads inputs \
                 from bucket {bucket:?} only"
            )));
        }
        let raw = record.s3.object.key.as_deref().unwrap_or("");
        let key = decode_key(raw)?;
        if let Some(file) = key.strip_prefix(&comptages_prefix) {
            if file.is_empty() || file.ends_with('/') {
                return Err(bad(format!("S3 key {key:?} is a folder, not an export")));
            }
            objects.insert(format!("s3://{bucket}/{key}"));
            continue;
        }
        let Some(file) = key.strip_prefix(&metrics_prefix) else {
            return Err(bad(format!(
                "S3 key {key:?} is under neither the metrics prefix {metrics_prefix:?} nor the \
                 comptages prefix {comptages_prefix:?}"
            )));
        };
        if let Some((_, date)) = MetricsKind::parse_file_name(file) {
            dates.insert(date);
            continue;
        }
        // Other metrics kinds of the old pipeline feed no section of the road report.
        match other_metrics_file(file) {
            Some((kind, date)) => skipped.push(Job::Skipped {
                date,
                reason: format!(
                    "{key}: {kind} metrics feed no section of the road report; nothing rebuilt"
                ),
            }),
            None => {
                return Err(bad(format!(
                    "S3 key {key:?} is not a metrics file (<kind>_metrics_YYYY-MM-DD.json, kind \
                     comptages, bikes, weather or chantiers)"
                )))
            }
        }
    }
    // A day rebuilt from its metrics (or from the raw layout) is not also reported as
    // skipped; a day rebuilt from the raw layout reads its metrics files too.
    skipped.retain(|j| {
        !matches!(j, Job::Skipped { date, .. } if dates.contains(date) || raw_dates.contains(date))
    });
    let mut jobs: Vec<Job> = dates
        .into_iter()
        .filter(|d| !raw_dates.contains(d))
        .map(Job::Metrics)
        .collect();
    jobs.extend(raw_dates.into_iter().map(Job::Raw));
    jobs.extend(skipped);
    jobs.extend(
        objects
            .into_iter()
            .map(|url| Job::Comptages { url, dates: None }),
    );
    Ok(Plan {
        trigger: "s3",
        jobs,
        dry_run: false,
    })
}

/// The days an upload under the raw layout rebuilds (`file`: its key below the layout's root):
/// a `dt=D` partition of bikes or weather holds the morning's fetch, the counts of the day
/// before, so D−1 and D; a batch file (roadworks, comptages) the latest report day, the day
/// before the upload in Paris.
fn raw_days(file: &str, key: &str, uploaded: DateTime<Utc>) -> Result<Vec<NaiveDate>, BadEvent> {
    for source in ["api/bikes/", "api/weather/"] {
        if let Some(rest) = file.strip_prefix(source) {
            let partition = rest
                .strip_prefix("dt=")
                .and_then(|r| r.split_once('/'))
                .filter(|(_, name)| !name.is_empty() && !name.ends_with('/'));
            let Some((day, _)) = partition else {
                return Err(bad(format!(
                    "S3 key {key:?} is not in a dt=YYYY-MM-DD partition of {source}"
                )));
            };
            let day = parse_date(day).map_err(|m| bad(format!("S3 key {key:?}: {m}")))?;
            return Ok(day.pred_opt().into_iter().chain([day]).collect());
        }
    }
    if let Some(name) = file.strip_prefix("batch/") {
        if name.is_empty() || name.ends_with('/') {
            return Err(bad(format!("S3 key {key:?} is a folder, not a file")));
        }
        return Ok(vec![report_day_of(uploaded)]);
    }
    Err(bad(format!(
        "S3 key {key:?} is under the raw layout but not in api/bikes/, api/weather/ or batch/"
    )))
}

/// `traffic_metrics_D.json`, `referentiel_metrics_D.json`: the old pipeline's other files.
fn other_metrics_file(file: &str) -> Option<(&str, NaiveDate)> {
    let (stem, rest) = file.split_once("_metrics_")?;
    let date = parse_date(rest.strip_suffix(".json")?).ok()?;
    matches!(stem, "traffic" | "referentiel").then_some((stem, date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs() -> Inputs {
        Inputs {
            metrics: InputLocation::S3 {
                bucket: "cityflow-in".into(),
                prefix: "metrics".into(),
            },
            comptages_prefix: "comptages".into(),
            raw: None,
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn scheduled(time: &str) -> Value {
        json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.scheduler",
            "account": "123456789012", "time": time, "region": "eu-west-3",
            "resources": ["arn:aws:scheduler:eu-west-3:123456789012:schedule/default/cityflow"],
            "detail": {}
        })
    }

    fn s3_event(records: &[(&str, &str)]) -> Value {
        let records: Vec<Value> = records
            .iter()
            .map(|(bucket, key)| {
                json!({
                    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-3",
                    "eventTime": "2025-11-05T05:10:00.000Z", "eventName": "ObjectCreated:Put",
                    "userIdentity": {"principalId": "AWS:EXAMPLE"},
                    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810"},
                    "s3": {
                        "s3SchemaVersion": "1.0", "configurationId": "cityflow-inputs",
                        "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                                   "arn": format!("arn:aws:s3:::{bucket}")},
                        "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                                   "sequencer": "0A1B2C3D4E5F678901"}
                    }
                })
            })
            .collect();
        json!({ "Records": records })
    }

    fn with_raw() -> Inputs {
        Inputs {
            raw: Some(InputLocation::S3 {
                bucket: "cityflow-in".into(),
                prefix: "raw".into(),
            }),
            ..inputs()
        }
    }

    #[test]
    fn raw_uploads_rebuild_their_days_and_the_schedule_reads_the_layout() {
        let p = plan(&scheduled("2025-11-05T05:30:00Z"), &with_raw()).unwrap();
        assert_eq!(p.jobs, [Job::Raw(d("2025-11-04"))]);
        // The morning's fetch (dt=D) holds the day before: D−1 and D; pages of one fetch and
        // a weather file of the same partition rebuild them once.
        let p = plan(
            &s3_event(&[
                ("cityflow-in", "raw/api/bikes/dt=2025-11-05/page_1.json"),
                ("cityflow-in", "raw/api/bikes/dt=2025-11-05/page_2.json"),
                ("cityflow-in", "raw/api/weather/dt=2025-11-05/weather.json"),
            ]),
            &with_raw(),
        )
        .unwrap();
        assert_eq!(
            p.jobs,
            [Job::Raw(d("2025-11-04")), Job::Raw(d("2025-11-05"))]
        );
        // A batch upload rebuilds the latest report day: the day before the upload, in Paris
        // (05:10 UTC on the 5th).
        let p = plan(
            &s3_event(&[(
                "cityflow-in",
                "raw/batch/chantiers-perturbants-la-circulation.csv",
            )]),
            &with_raw(),
        )
        .unwrap();
        assert_eq!(p.jobs, [Job::Raw(d("2025-11-04"))]);
        // A metrics file of a day also rebuilt from the layout: one job, from the layout.
        let p = plan(
            &s3_event(&[
                ("cityflow-in", "metrics/bikes_metrics_2025-11-04.json"),
                ("cityflow-in", "raw/api/bikes/dt=2025-11-05/p.json"),
            ]),
            &with_raw(),
        )
        .unwrap();
        assert_eq!(
            p.jobs,
            [Job::Raw(d("2025-11-04")), Job::Raw(d("2025-11-05"))]
        );
        for (key, why) in [
            (
                "raw/api/bikes/2025-11-05/p.json",
                "not in a dt=YYYY-MM-DD partition",
            ),
            ("raw/api/bikes/dt=2025-13-05/p.json", "not a valid date"),
            (
                "raw/other/x.json",
                "not in api/bikes/, api/weather/ or batch/",
            ),
        ] {
            let e = plan(&s3_event(&[("cityflow-in", key)]), &with_raw()).unwrap_err();
            assert!(e.0.contains(why), "{key}: {e}");
        }
        // Without a raw layout in S3, such keys are not inputs.
        assert!(plan(
            &s3_event(&[("cityflow-in", "raw/api/bikes/dt=2025-11-05/p.json")]),
            &inputs()
        )
        .is_err());
    }

    #[test]
    fn a_scheduled_event_reports_the_day_before_in_paris() {
        // 23:30 UTC on the 4th is 00:30 on the 5th in Paris (UTC+1): the 4th.
        let p = plan(&scheduled("2025-11-04T23:30:00Z"), &inputs()).unwrap();
        assert_eq!(p.jobs, [Job::Metrics(d("2025-11-04"))]);
        assert_eq!(p.trigger, "scheduled");
        // 05:30 UTC on the 5th: still the 4th.
        let p = plan(&scheduled("2025-11-05T05:30:00Z"), &inputs()).unwrap();
        assert_eq!(p.jobs, [Job::Metrics(d("2025-11-04"))]);
    }

    #[test]
    fn scheduled_events_on_the_dst_sundays() {
        // Spring: 2025-03-30, 02:00 → 03:00 (UTC+2 after). 22:30 UTC on the 30th is 00:30 on
        // the 31st in Paris: the 30th, the 23-hour day.
        let p = plan(&scheduled("2025-03-30T22:30:00Z"), &inputs()).unwrap();
        assert_eq!(p.jobs, [Job::Metrics(d("2025-03-30"))]);
        // 22:30 UTC on the 29th is 23:30 on the 29th (UTC+1): the 28th.
        let p = plan(&scheduled("2025-03-29T22:30:00Z"), &inputs()).unwrap();
        assert_eq!(p.jobs, [Job::Metrics(d("2025-03-28"))]);
        // Autumn: 2025-10-26, 03:00 → 02:00 (UTC+1 after). 23:30 UTC on the 26th is 00:30
        // on the 27th: the 26th, the 25-hour day.
        let p = plan(&scheduled("2025-10-26T23:30:00Z"), &inputs()).unwrap();
        assert_eq!(p.jobs, [Job::Metrics(d("2025-10-26"))]);
        // 22:30 UTC on the 25th is 00:30 on the 26th (UTC+2): the 25th.
        let p = plan(&scheduled("2025-10-25T22:30:00Z"), &inputs()).unwrap();
        assert_eq!(p.jobs, [Job::Metrics(d("2025-10-25"))]);
    }

    #[test]
    fn direct_invocations() {
        let p = plan(&json!({"date": "2025-11-04"}), &inputs()).unwrap();
        assert_eq!(
            (p.trigger, p.jobs, p.dry_run),
            ("direct", vec![Job::Metrics(d("2025-11-04"))], false)
        );
        let p = plan(
            &json!({"from": "2025-10-30", "to": "2025-11-02", "dry_run": true}),
            &inputs(),
        )
        .unwrap();
        assert_eq!(p.jobs.len(), 4);
        assert_eq!(p.jobs[3], Job::Metrics(d("2025-11-02")));
        assert!(p.dry_run);
        let p = plan(
            &json!({"date": "2025-11-04", "comptages": "s3://cityflow-in/comptages/a.csv.gz"}),
            &inputs(),
        )
        .unwrap();
        assert_eq!(
            p.jobs,
            [Job::Comptages {
                url: "s3://cityflow-in/comptages/a.csv.gz".into(),
                dates: Some((d("2025-11-04"), d("2025-11-04")))
            }]
        );
        // 31 days is the most.
        assert!(plan(
            &json!({"from": "2025-01-01", "to": "2025-01-31"}),
            &inputs()
        )
        .is_ok());
    }

    #[test]
    fn bad_payloads_are_refused_saying_why() {
        for (event, says) in [
            (json!({"date": "2025-13-01"}), "\"date\""),
            (json!({"date": "04/11/2025"}), "\"date\""),
            (
                json!({"from": "2025-01-01", "to": "2025-02-01"}),
                "at most 31",
            ),
            (json!({"from": "2025-02-01", "to": "2025-01-01"}), "after"),
            (json!({"from": "2025-02-01"}), "both"),
            (
                json!({"date": "2025-11-04", "from": "2025-11-01", "to": "2025-11-04"}),
                "not both",
            ),
            (
                json!({"date": "2025-11-04", "dryrun": true}),
                "unknown field",
            ),
            (
                json!({"date": "2025-11-04", "comptages": "/tmp/x.csv"}),
                "s3://",
            ),
            (json!({"hello": "world"}), "unknown event shape"),
            (json!([1, 2]), "not a JSON object"),
            (json!("2025-11-04"), "unknown event shape"),
            (
                json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
                "only \"Scheduled Event\"",
            ),
        ] {
            let e = plan(&event, &inputs()).unwrap_err();
            assert!(e.0.contains(says), "{event}: {e}");
        }
    }

    #[test]
    fn s3_keys_are_decoded_and_each_date_built_once() {
        let p = plan(
            &s3_event(&[
                ("cityflow-in", "metrics/bikes_metrics_2025-11-04.json"),
                ("cityflow-in", "metrics/weather_metrics_2025-11-04.json"),
                ("cityflow-in", "metrics/chantiers_metrics_2025-11-03.json"),
                ("cityflow-in", "metrics/traffic_metrics_2025-11-04.json"),
                ("cityflow-in", "metrics/referentiel_metrics_2025-11-02.json"),
                ("cityflow-in", "comptages/export+du+4%C3%A9.csv.gz"),
            ]),
            &inputs(),
        )
        .unwrap();
        assert_eq!(p.trigger, "s3");
        assert_eq!(
            p.jobs,
            [
                Job::Metrics(d("2025-11-03")),
                Job::Metrics(d("2025-11-04")),
                Job::Skipped {
                    date: d("2025-11-02"),
                    reason: "metrics/referentiel_metrics_2025-11-02.json: referentiel metrics \
                             feed no section of the road report; nothing rebuilt"
                        .into()
                },
                Job::Comptages {
                    url: "s3://cityflow-in/comptages/export du 4é.csv.gz".into(),
                    dates: None
                },
            ]
        );
        assert_eq!(decode_key("a%2Fb+c%25").unwrap(), "a/b c%");
        assert!(decode_key("a%zz").is_err());
        assert!(decode_key("%C3").is_err());
    }

    #[test]
    fn s3_records_from_elsewhere_are_refused() {
        for (records, says) in [
            (
                vec![("another-bucket", "metrics/bikes_metrics_2025-11-04.json")],
                "bucket",
            ),
            (
                vec![("cityflow-in", "metrics/readme.txt")],
                "not a metrics file",
            ),
            (
                vec![("cityflow-in", "elsewhere/bikes_metrics_2025-11-04.json")],
                "neither",
            ),
            (vec![("cityflow-in", "comptages/")], "folder"),
        ] {
            let e = plan(&s3_event(&records), &inputs()).unwrap_err();
            assert!(e.0.contains(says), "{records:?}: {e}");
        }
        let mut removed = s3_event(&[("cityflow-in", "metrics/bikes_metrics_2025-11-04.json")]);
        removed["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
        assert!(plan(&removed, &inputs())
            .unwrap_err()
            .0
            .contains("ObjectCreated"));
    }
}
