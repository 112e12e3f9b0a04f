//! Cross-check of the bike section against an independent reference: DuckDB computes each
//! Paris day's total and failing counters from the simulated CSV export, with its own CSV
//! reader, time zones and SQL (scripts/reference_bikes.py); both must agree on every day,
//! the spring and autumn DST days included.
//!
//! The Python with DuckDB comes from `CITYFLOW_REFERENCE_PYTHON` (scripts/services sets it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cityflow_core::conformance::service_endpoint;
use cityflow_ingest::simulate_sources::{simulate_bikes, BikeFormat};
use cityflow_ingest::BikeCounts;

/// date → (total, failing ids)
type Days = BTreeMap<String, (u64, Vec<String>)>;

fn ours(input: &Path) -> Days {
    let mut b = BikeCounts::new();
    b.read(input, std::fs::File::open(input).unwrap()).unwrap();
    b.days()
        .into_iter()
        .map(|d| {
            let day = b.day(d);
            let mut failing: Vec<String> = day.failing.into_iter().map(|f| f.id_compteur).collect();
            failing.sort();
            (d.to_string(), (day.total, failing))
        })
        .collect()
}

fn duckdb(python: &str, input: &Path, output: &Path) -> Days {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/reference_bikes.py");
    let status = Command::new(python)
        .arg(&script)
        .arg(input)
        .arg(output)
        .status()
        .expect("run the DuckDB reference");
    assert!(status.success(), "the DuckDB reference failed");
    std::fs::read_to_string(output)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(';').collect();
            let failing = f[2]
                .trim_matches('"')
                .split('|')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            (f[0].to_string(), (f[1].parse().unwrap(), failing))
        })
        .collect()
}

#[test]
fn bike_totals_and_failing_counters_match_duckdb_across_both_dst_changes() {
    let Some(python) = service_endpoint("CITYFLOW_REFERENCE_PYTHON") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Spring (2025-03-30, 23 hours) and autumn (2025-10-26, 25 hours), each with normal days
    // around them.
    for (from, to, seed) in [
        ("2025-03-27", "2025-04-02", 330),
        ("2025-10-23", "2025-10-29", 1026),
    ] {
        let input = dir.path().join(format!("bikes-{from}.csv"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        let s = simulate_bikes(
            from.parse().unwrap(),
            to.parse().unwrap(),
            60,
            seed,
            BikeFormat::Csv,
            &mut out,
        )
        .unwrap();
        drop(out);
        assert_eq!(s.counters, 120);
        let ours = ours(&input);
        let reference = duckdb(&python, &input, &dir.path().join("reference.csv"));
        assert_eq!(ours.len(), 7, "{:?}", ours.keys());
        // The simulation exercises every rule: some counters fail on most days.
        let failing: usize = ours.values().map(|(_, f)| f.len()).sum();
        assert!(failing >= 7, "{failing} failing counter-days");
        for (date, figures) in &ours {
            assert_eq!(Some(figures), reference.get(date), "{date}");
        }
        assert_eq!(ours, reference);
    }
}
