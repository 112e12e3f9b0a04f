//! The two steps of the backfill state machine (`CityflowBackfill` in `deploy/`) that are
//! not report builds: splitting a range of any length into months, and summing the months'
//! answers up. Pure functions of the event, answered by the report function itself so that
//! the state machine needs no second function.
//!
//! - `{"backfill_plan": {"from": D, "to": D}}` → `{"from", "to", "days", "months": [{"from",
//!   "to"}, …]}`: each month of the range cut to it ([`cityflow_core::months_of`]); the Map
//!   state invokes the function once per month with that `{"from", "to"}`.
//! - `{"backfill_summary": [answer or failure, …]}` → `{"months", "reports_written",
//!   "reports_skipped", "failed_days": [{"date", "reason"}], "failed_months": [{"from", "to",
//!   "error"}]}`: an answer is a month's invocation result (`{"dates": […]}`); a failure is what
//!   the state machine's `Catch` made of an invocation that failed after its retries
//!   (`{"month": {"from", "to"}, "error": {"Error", "Cause"}}`).

use chrono::NaiveDate;
use cityflow_core::{months_of, parse_date};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::event::BadEvent;

/// The longest backfill one execution takes: a century of days, far beyond ten years, short
/// of a plan too large for a state's payload (256 KB: about 1,200 months).
pub const MAX_BACKFILL_DAYS: i64 = 36_525;

/// The answer to a backfill step, or `None` when `event` is not one (then it is a report
/// event for [`crate::Function::handle`]).
pub fn answer(event: &Value) -> Option<Result<Value, BadEvent>> {
    let object = event.as_object()?;
    if let Some(range) = object.get("backfill_plan") {
        return Some(plan(range));
    }
    if let Some(results) = object.get("backfill_summary") {
        return Some(summary(results));
    }
    None
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    from: String,
    to: String,
}

fn plan(range: &Value) -> Result<Value, BadEvent> {
    let r: Range = serde_json::from_value(range.clone()).map_err(|e| {
        BadEvent(format!(
            "backfill_plan: {e}; expected {{\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}}"
        ))
    })?;
    let date = |name: &str, text: &str| -> Result<NaiveDate, BadEvent> {
        parse_date(text).map_err(|m| BadEvent(format!("backfill_plan: \"{name}\": {m}")))
    };
    let (from, to) = (date("from", &r.from)?, date("to", &r.to)?);
    if from > to {
        return Err(BadEvent(format!(
            "backfill_plan: \"from\" {from} is after \"to\" {to}"
        )));
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_BACKFILL_DAYS {
        return Err(BadEvent(format!(
            "backfill_plan: {days} days from {from} to {to}; at most {MAX_BACKFILL_DAYS}"
        )));
    }
    let months: Vec<Value> = months_of(from, to)
        .into_iter()
        .map(|(f, t)| json!({"from": f.to_string(), "to": t.to_string()}))
        .collect();
    Ok(json!({"from": from.to_string(), "to": to.to_string(), "days": days, "months": months}))
}

fn summary(results: &Value) -> Result<Value, BadEvent> {
    let results = results.as_array().ok_or_else(|| {
        BadEvent("backfill_summary: expected the array of the months' results".into())
    })?;
    let (mut written, mut skipped) = (0u64, 0u64);
    let mut failed_days = Vec::new();
    let mut failed_months = Vec::new();
    for result in results {
        if let Some(dates) = result.get("dates").and_then(Value::as_array) {
            for d in dates {
                match d.get("status").and_then(Value::as_str) {
                    Some("exported") => written += 1,
                    Some("skipped") => skipped += 1,
                    _ => failed_days.push(json!({
                        "date": d.get("date").cloned().unwrap_or(Value::Null),
                        "reason": d.get("reason").cloned().unwrap_or(Value::Null),
                    })),
                }
            }
        } else if let Some(month) = result.get("month") {
            let error = result.get("error");
            failed_months.push(json!({
                "from": month.get("from").cloned().unwrap_or(Value::Null),
                "to": month.get("to").cloned().unwrap_or(Value::Null),
                "error": error.and_then(|e| e.get("Error")).cloned().unwrap_or(Value::Null),
                "cause": error.and_then(|e| e.get("Cause")).cloned().unwrap_or(Value::Null),
            }));
        } else {
            return Err(BadEvent(format!(
                "backfill_summary: a result is neither a month's answer (\"dates\") nor a \
                 caught failure (\"month\", \"error\"): {}",
                truncated(result)
            )));
        }
    }
    Ok(json!({
        "months": results.len(),
        "reports_written": written,
        "reports_skipped": skipped,
        "failed_days": failed_days,
        "failed_months": failed_months,
    }))
}

/// A value for a message: at most 200 characters of its JSON.
fn truncated(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_the_months_of_the_range() {
        let answer = answer(&json!({"backfill_plan": {"from": "2016-01-15", "to": "2026-01-14"}}))
            .unwrap()
            .unwrap();
        assert_eq!(answer["days"], 3653);
        let months = answer["months"].as_array().unwrap();
        assert_eq!(months.len(), 121);
        assert_eq!(months[0], json!({"from": "2016-01-15", "to": "2016-01-31"}));
        assert_eq!(months[1], json!({"from": "2016-02-01", "to": "2016-02-29"}));
        assert_eq!(
            months[120],
            json!({"from": "2026-01-01", "to": "2026-01-14"})
        );
        // Each month is a direct invocation the function accepts.
        let inputs = crate::event::Inputs {
            metrics: cityflow_core::InputLocation::Dir("metrics".into()),
            comptages_prefix: "comptages".into(),
            raw: None,
        };
        for m in months {
            crate::event::plan(m, &inputs).unwrap();
        }
    }

    #[test]
    fn bad_plans_are_refused_saying_why() {
        for (event, says) in [
            (
                json!({"backfill_plan": {"from": "2026-02-01", "to": "2026-01-01"}}),
                "after",
            ),
            (
                json!({"backfill_plan": {"from": "2026-02-30", "to": "2026-03-01"}}),
                "\"from\"",
            ),
            (
                json!({"backfill_plan": {"from": "2026-01-01"}}),
                "missing field",
            ),
            (
                json!({"backfill_plan": {"from": "1900-01-01", "to": "2100-01-01"}}),
                "at most",
            ),
        ] {
            let e = answer(&event).unwrap().unwrap_err();
            assert!(e.0.contains(says), "{event}: {e}");
        }
        assert!(
            answer(&json!({"date": "2026-01-01"})).is_none(),
            "a report event"
        );
    }

    #[test]
    fn a_summary_counts_days_and_lists_failures() {
        let results = json!([
            {"trigger": "direct", "dry_run": false, "dates": [
                {"date": "2026-01-01", "status": "exported"},
                {"date": "2026-01-02", "status": "skipped", "reason": "newer inputs"},
                {"date": "2026-01-03", "status": "failed", "reason": "CSV to S3 failed"},
            ]},
            {"month": {"from": "2026-02-01", "to": "2026-02-28"},
             "error": {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate exceeded"}},
        ]);
        let s = answer(&json!({"backfill_summary": results}))
            .unwrap()
            .unwrap();
        assert_eq!(s["months"], 2);
        assert_eq!(s["reports_written"], 1);
        assert_eq!(s["reports_skipped"], 1);
        assert_eq!(
            s["failed_days"],
            json!([{"date": "2026-01-03", "reason": "CSV to S3 failed"}])
        );
        assert_eq!(s["failed_months"][0]["from"], "2026-02-01");
        assert_eq!(
            s["failed_months"][0]["error"],
            "Lambda.TooManyRequestsException"
        );
        assert!(answer(&json!({"backfill_summary": [{"what": 1}]}))
            .unwrap()
            .is_err());
    }
}
