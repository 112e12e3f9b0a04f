//! The old tool's metrics loader, on arbitrary bytes: the first byte picks the file kind,
//! the rest is the file.
//!
//! Properties: no panic; an accepted file gives a report whose CSV renders and whose JSON
//! reads back equal.
#![no_main]

use cityflow_core::{
    generate_from_metrics, render_csv, DailyReport, MetricsInput, MetricsKind, Timestamp,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let kind = MetricsKind::ALL[usize::from(selector) % MetricsKind::ALL.len()];
    let date = "2026-03-10".parse().expect("a valid date");
    let at = Timestamp::parse("2026-03-11T06:00:00+01:00").expect("a valid timestamp");
    let input = MetricsInput {
        kind,
        source: "fuzz-metrics.json",
        bytes,
    };
    let Ok(report) = generate_from_metrics(date, at, &[input]) else {
        return;
    };
    render_csv(&report);
    let json = serde_json::to_vec(&report).expect("a report always serializes");
    let back: DailyReport = serde_json::from_slice(&json).expect("and reads back");
    assert_eq!(back, report);
});
