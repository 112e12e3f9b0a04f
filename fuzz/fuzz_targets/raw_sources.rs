//! The bike counters, weather timeline and roadworks parsers on arbitrary bytes (plain or
//! gzip). The first byte picks the parser (0 bikes, 1 weather, 2 roadworks), the rest is the
//! file.
//!
//! Properties: no panic, no hang; an input that parses gives sections that serialize and
//! read back equal (no NaN or infinity, no count of a failing counter in the total).
#![no_main]

use std::io::Cursor;
use std::path::Path;

use cityflow_core::{FailingSensor, Roadwork, WeatherImpact};
use cityflow_ingest::{BikeCounts, Roadworks, WeatherDays};
use libfuzzer_sys::fuzz_target;

fn round_trips<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let json = serde_json::to_vec(v).expect("a section always serializes");
    let back: T = serde_json::from_slice(&json).expect("and reads back");
    assert_eq!(&back, v);
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, file)) = data.split_first() else {
        return;
    };
    let name = Path::new("fuzz-input");
    match kind % 3 {
        0 => {
            let mut b = BikeCounts::new();
            if b.read(name, Cursor::new(file.to_vec())).is_err() {
                return; // a clean error is a fine answer to garbage
            }
            for date in b.days().into_iter().take(3) {
                let day = b.day(date);
                let failing: Vec<FailingSensor> = day.failing.clone();
                round_trips(&failing);
                let counted: u64 = (0..b.counters().len())
                    .filter(|c| !failing.iter().any(|f| f.id_compteur == b.counters()[*c].id))
                    .map(|c| b.hours(c, date).into_iter().flatten().map(u64::from).sum::<u64>())
                    .sum();
                assert_eq!(counted, day.total);
            }
        }
        1 => {
            let mut w = WeatherDays::new();
            if w.read(name, Cursor::new(file.to_vec())).is_err() {
                return;
            }
            let days: Vec<WeatherImpact> = w.days().filter_map(|d| w.day(d).cloned()).collect();
            for d in &days {
                let score = d.impact_mobilite.expect("always scored");
                assert!((0.0..=100.0).contains(&score));
            }
            round_trips(&days);
        }
        _ => {
            let mut r = Roadworks::new();
            if r.read(name, Cursor::new(file.to_vec())).is_err() {
                return;
            }
            for row in r.rows().iter().take(3) {
                let active: Vec<Roadwork> = r.active_on(row.start);
                assert!(active.iter().any(|a| a.identifiant == row.roadwork.identifiant));
                round_trips(&active);
            }
        }
    }
});
