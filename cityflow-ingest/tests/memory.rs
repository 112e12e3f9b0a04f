//! Memory grows with (arc, day) pairs, at a bounded cost each, whatever the order of the rows.
//!
//! One test in its own binary, which runs itself again once per order of the rows: each
//! measure is then a fresh process, whose peak resident size (`VmHWM`) grows with the
//! ingestion alone (memory freed by a first run would stay resident and hide the second's).
//! Memory is asserted, never time. Linux only (as the harness is).

use std::io::Write;

use cityflow_ingest::{ingest, DaySelection, NoProgress};

const ARCS: u32 = 20_000;
const DAYS: u32 = 25;
/// Bytes per pair the test allows: a packed pair takes 144 bytes plus its index (about 165 in
/// all, measured); the unpacked hours of before took about 870, which this would catch.
const MAX_BYTES_PER_PAIR: u64 = 400;

/// The process's peak resident size, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

/// Set in the copies of this test that measure one order.
const ORDER_VARIABLE: &str = "CITYFLOW_MEMORY_TEST_ORDER";
const TEST_NAME: &str = "memory_grows_with_pairs_at_a_bounded_cost_whatever_the_order";

/// One row per (arc, day): the least text for the most pairs. `by_arc`: all the days of an
/// arc together; otherwise day by day, all arcs each day (the export's order).
fn write_rows(path: &std::path::Path, by_arc: bool) {
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::new(file);
    writeln!(
        out,
        "Identifiant arc;Date et heure de comptage;Débit horaire;Taux d'occupation;Etat trafic"
    )
    .unwrap();
    let mut row = |arc: u32, day: u32| {
        let hour = arc % 24;
        writeln!(
            out,
            "{arc};2025-01-{:02}T{hour:02}:00:00+01:00;{};{}.{};Fluide",
            day + 1,
            arc % 900,
            arc % 90,
            day % 10
        )
        .unwrap();
    };
    if by_arc {
        for arc in 0..ARCS {
            for day in 0..DAYS {
                row(arc, day);
            }
        }
    } else {
        for day in 0..DAYS {
            for arc in 0..ARCS {
                row(arc, day);
            }
        }
    }
    out.flush().unwrap();
}

/// Ingests the rows in one order; returns the growth of the peak resident size per pair.
fn bytes_per_pair(by_arc: bool) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let pairs = u64::from(ARCS * DAYS);
    let path = dir.path().join("pairs.csv");
    write_rows(&path, by_arc);
    let before = peak_rss();
    let ingested = ingest(&path, DaySelection::All, 2, &NoProgress).unwrap();
    let grown = peak_rss().saturating_sub(before);
    assert_eq!(ingested.aggregate.pair_count() as u64, pairs);
    assert_eq!(ingested.aggregate.stats.rows_malformed, 0);
    // The values read back as written.
    let first = ingested.arc_day_aggregates().next().unwrap();
    assert_eq!((first.arc_id.as_str(), first.debit_sum), ("0", 0));
    grown / pairs
}

#[test]
fn memory_grows_with_pairs_at_a_bounded_cost_whatever_the_order() {
    if let Ok(order) = std::env::var(ORDER_VARIABLE) {
        println!("bytes_per_pair={}", bytes_per_pair(order == "arc"));
        return;
    }
    for order in ["day", "arc"] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(ORDER_VARIABLE, order)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "the {order} measure failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // libtest prints the test's name on the same line, before the measure.
        let bytes: u64 = stdout
            .split("bytes_per_pair=")
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no measure in: {stdout}"));
        eprintln!("rows {order} by {order}: {bytes} bytes per (arc, day) pair");
        assert!(
            bytes <= MAX_BYTES_PER_PAIR,
            "rows {order} by {order}: {bytes} bytes per (arc, day) pair, over {MAX_BYTES_PER_PAIR}"
        );
    }
}
