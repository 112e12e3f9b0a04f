//! Golden outputs of `cityflow report generate`: the human output, the `--json` output and the
//! exit code of each case are compared byte for byte with files under `tests/golden/`.
//!
//! The goldens were recorded before the export pipeline moved from the binary into the
//! library, so they prove the move changed nothing users see. Only what cannot be the same
//! twice is normalised: the temporary directory, the examples' absolute path, a port number,
//! durations and rates.
//!
//! To record again after an intended change: `UPDATE_GOLDEN=1 cargo test -p cityflow-cli
//! --test golden_output`, then review the diff of `tests/golden/`.

mod common;

use std::path::{Path, PathBuf};

use common::{cityflow, closed_port, examples, mask_numbers_after};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Replaces what differs from run to run by stable placeholders.
fn normalise(text: &str, dir: &Path, port: u16) -> String {
    let mut out = text
        .replace(&examples().display().to_string(), "<EXAMPLES>")
        .replace(&dir.display().to_string(), "<TMP>")
        .replace(&port.to_string(), "<PORT>");
    // Durations and rates: "0.0 s", "1234 rapports/s", "export_seconds": 0.01, …
    // The MongoDB driver's own detail holds sets printed in no fixed order.
    out = out
        .lines()
        .map(|line| match (line.find(" (Kind: "), line.rfind(')')) {
            (Some(start), Some(end)) if end > start => {
                format!("{} (<driver detail>){}\n", &line[..start], &line[end + 1..])
            }
            _ => format!("{line}\n"),
        })
        .collect();
    for (key, unit) in [
        ("\"export_seconds\": ", ""),
        ("\"reports_per_second\": ", ""),
        ("export : ", " s,"),
        ("s, ", " rapports/s"),
        (" Mo en ", " s,"),
    ] {
        out = mask_numbers_after(&out, key, unit);
    }
    out
}

struct Case {
    name: &'static str,
    vars: Vec<(&'static str, String)>,
    args: Vec<String>,
}

fn run_case(case: &Case, dir: &Path, port: u16) -> String {
    let vars: Vec<(&str, &str)> = case.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = cityflow(dir, &vars)
        .args(&case.args)
        .output()
        .expect("cityflow runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    // stderr carries logs with times and is checked elsewhere; its `error:` line is kept.
    let stderr: String = String::from_utf8(output.stderr)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(|l| format!("{l}\n"))
        .collect();
    normalise(
        &format!(
            "exit code: {}\n--- stdout\n{stdout}--- stderr (error lines)\n{stderr}",
            output.status.code().unwrap_or(-1)
        ),
        dir,
        port,
    )
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn report_generate_outputs_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let ex = examples().display().to_string();
    // A small raw open-data file, simulated deterministically.
    let input = dir.path().join("in.csv");
    cityflow(dir.path(), &[])
        .args([
            "simulate",
            "comptages",
            "--from",
            "2025-11-03",
            "--to",
            "2025-11-05",
            "--arcs",
            "6",
            "--seed",
            "3",
            "--out",
        ])
        .arg(&input)
        .assert()
        .success();
    let input = input.display().to_string();
    // A metrics directory with only one file: three warnings.
    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::copy(
        examples().join("bikes_metrics_2026-03-10.json"),
        partial.join("bikes_metrics_2026-03-10.json"),
    )
    .unwrap();
    let partial = partial.display().to_string();
    let mongo_down = vec![
        ("DATABASE_TYPE", "mongodb".to_string()),
        ("MONGODB_URL", format!("mongodb://127.0.0.1:{port}/")),
        ("MONGODB_TIMEOUT_MS", "200".to_string()),
        ("MONGODB_MAX_ATTEMPTS", "1".to_string()),
    ];
    let day = [
        "report",
        "generate",
        "--date",
        "2026-03-10",
        "--metrics-dir",
    ];
    let with = |extra: &[&str], dir: &str| {
        let mut a = args(&day);
        a.push(dir.to_string());
        a.extend(args(extra));
        a
    };
    let comptages = |extra: &[&str]| {
        let mut a = args(&["report", "generate", "--comptages", &input]);
        a.extend(args(extra));
        a
    };
    let cases = vec![
        Case {
            name: "metrics_human",
            vars: vec![],
            args: with(&[], &ex),
        },
        Case {
            name: "metrics_json",
            vars: vec![],
            args: with(&["--json"], &ex),
        },
        Case {
            name: "metrics_dry_run_human",
            vars: vec![],
            args: with(&["--dry-run"], &ex),
        },
        Case {
            name: "metrics_dry_run_json",
            vars: vec![],
            args: with(&["--dry-run", "--json"], &ex),
        },
        Case {
            name: "metrics_partial_json",
            vars: vec![],
            args: with(&["--json"], &partial),
        },
        Case {
            name: "metrics_mongo_down_human",
            vars: mongo_down.clone(),
            args: with(&[], &ex),
        },
        Case {
            name: "metrics_mongo_down_json",
            vars: mongo_down.clone(),
            args: with(&["--json"], &ex),
        },
        Case {
            name: "metrics_missing_dir",
            vars: vec![],
            args: with(&["--json"], "no-such-dir"),
        },
        Case {
            name: "comptages_all_human",
            vars: vec![],
            args: comptages(&["--all"]),
        },
        Case {
            name: "comptages_all_json",
            vars: vec![],
            args: comptages(&["--all", "--json"]),
        },
        Case {
            name: "comptages_range_metrics_json",
            vars: vec![],
            args: comptages(&[
                "--from",
                "2025-11-04",
                "--to",
                "2025-11-05",
                "--metrics-dir",
                &partial,
                "--json",
            ]),
        },
        Case {
            name: "comptages_dry_run_human",
            vars: vec![],
            args: comptages(&["--all", "--dry-run"]),
        },
        Case {
            name: "comptages_mongo_down_human",
            vars: mongo_down.clone(),
            args: comptages(&["--date", "2025-11-04"]),
        },
        Case {
            name: "comptages_mongo_down_json",
            vars: mongo_down,
            args: comptages(&["--date", "2025-11-04", "--json"]),
        },
        Case {
            name: "comptages_day_without_rows",
            vars: vec![],
            args: comptages(&["--date", "2025-12-25"]),
        },
    ];

    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut differ = Vec::new();
    for case in &cases {
        let got = run_case(case, dir.path(), port);
        let path = golden_dir().join(format!("{}.txt", case.name));
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (record with UPDATE_GOLDEN=1)", path.display()));
        if got != want {
            differ.push(format!("== {}\n-- want\n{want}\n-- got\n{got}", case.name));
        }
    }
    assert!(differ.is_empty(), "outputs differ:\n{}", differ.join("\n"));
}
