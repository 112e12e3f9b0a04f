//! Cross-check against an independent reference: DuckDB computes the per-arc, per-day
//! aggregation of a simulated multi-day file (DST day included) with its own CSV reader, time
//! zones and SQL (scripts/reference_aggregate.py); every field must agree.
//!
//! The Python with DuckDB comes from `CITYFLOW_REFERENCE_PYTHON` (scripts/services sets it).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use cityflow_core::conformance::service_endpoint;
use cityflow_ingest::simulate::{simulate_to_file, Network, SimulateOptions};
use cityflow_ingest::{ingest, DaySelection, NoProgress};

type Key = (String, String);

#[derive(Debug, PartialEq)]
struct Row {
    debit_count: u64,
    debit_sum: Option<u64>,
    debit_mean: Option<f64>,
    debit_max: Option<u64>,
    taux_count: u64,
    taux_mean: Option<f64>,
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => false,
    }
}

#[test]
fn per_arc_per_day_figures_match_duckdb() {
    let Some(python) = service_endpoint("CITYFLOW_REFERENCE_PYTHON") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("comptages.csv");
    let options = SimulateOptions {
        from: "2025-10-24".parse().unwrap(),
        to: "2025-10-29".parse().unwrap(), // the autumn DST day is 2025-10-26
        network: Network::Synthetic(150),
        seed: 20251026,
    };
    let summary = simulate_to_file(&options, &input).unwrap();
    assert!(
        summary.duplicate_rows > 0 && summary.invalide_arcs > 0,
        "{summary:?}"
    );

    let ours: BTreeMap<Key, Row> = ingest(&input, DaySelection::All, 2, &NoProgress)
        .unwrap()
        .arc_day_aggregates()
        .map(|a| {
            (
                (a.arc_id.clone(), a.date.to_string()),
                Row {
                    debit_count: u64::from(a.debit_count),
                    debit_sum: (a.debit_count > 0).then_some(a.debit_sum),
                    debit_mean: a.debit_mean(),
                    debit_max: a.debit_max.map(u64::from),
                    taux_count: u64::from(a.taux_count),
                    taux_mean: a.taux_mean(),
                },
            )
        })
        .collect();

    let output = dir.path().join("reference.csv");
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/reference_aggregate.py");
    let status = Command::new(&python)
        .arg(&script)
        .arg(&input)
        .arg(&output)
        .status()
        .expect("run the DuckDB reference");
    assert!(status.success(), "the reference failed: {status}");
    let text = std::fs::read_to_string(&output).unwrap();
    let opt_u = |s: &str| (!s.is_empty()).then(|| s.parse::<u64>().unwrap());
    let opt_f = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
    let theirs: BTreeMap<Key, Row> = text
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(';').collect();
            assert_eq!(f.len(), 8, "{line}");
            (
                (f[0].to_string(), f[1].to_string()),
                Row {
                    debit_count: f[2].parse().unwrap(),
                    debit_sum: opt_u(f[3]),
                    debit_mean: opt_f(f[4]),
                    debit_max: opt_u(f[5]),
                    taux_count: f[6].parse().unwrap(),
                    taux_mean: opt_f(f[7]),
                },
            )
        })
        .collect();

    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "the same (arc, day) pairs"
    );
    assert!(ours.len() > 500, "{} pairs", ours.len());
    for (key, a) in &ours {
        let b = &theirs[key];
        assert_eq!(a.debit_count, b.debit_count, "{key:?} debit_count");
        assert_eq!(a.debit_sum, b.debit_sum, "{key:?} debit_sum");
        assert_eq!(a.debit_max, b.debit_max, "{key:?} debit_max");
        assert_eq!(a.taux_count, b.taux_count, "{key:?} taux_count");
        assert!(
            close(a.debit_mean, b.debit_mean),
            "{key:?} debit_mean {a:?} {b:?}"
        );
        assert!(
            close(a.taux_mean, b.taux_mean),
            "{key:?} taux_mean {a:?} {b:?}"
        );
    }
    // The autumn DST day has 25 hours of rows for a healthy arc.
    assert!(ours
        .iter()
        .any(|((_, d), r)| d == "2025-10-26" && r.debit_count == 25));
}
