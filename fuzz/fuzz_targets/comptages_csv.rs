//! The raw open-data CSV parser and aggregation, on arbitrary bytes (plain or gzip).
//!
//! Properties: no panic, no hang; an input that parses gives reports whose CSV renders and
//! whose JSON reads back equal (no NaN or infinity can reach a report).
#![no_main]

use cityflow_core::{render_csv, DailyReport, Timestamp};
use cityflow_ingest::{ingest_bytes, DaySelection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = std::path::Path::new("fuzz-input.csv");
    let Ok(ingested) = ingest_bytes(name, data.to_vec(), DaySelection::All, 2) else {
        return; // a clean error is a fine answer to garbage
    };
    let at = Timestamp::parse("2025-11-05T06:00:00+01:00").expect("a valid timestamp");
    for date in ingested.days.iter().take(3) {
        let report = ingested.report(*date, at);
        render_csv(&report);
        let json = serde_json::to_vec(&report).expect("a report always serializes");
        let back: DailyReport = serde_json::from_slice(&json).expect("and reads back");
        assert_eq!(back, report);
    }
});
