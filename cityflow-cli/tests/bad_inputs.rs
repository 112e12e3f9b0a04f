//! The bad-input corpus (`tests/bad-inputs/`, manifest `cases.json`, made by
//! `make_corpus.py`): every case is one `cityflow` run that must end with its documented exit
//! code, a one-line error naming the problem (or, for bad lines, a counted rejection in the
//! `--json` summary), no panic, and nothing partially exported.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{examples, files_under};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    why: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    prepare: Option<String>,
    exit: i32,
    stderr: Option<String>,
    counted: Option<BTreeMap<String, u64>>,
    exported: usize,
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn substitute(text: &str, work: &Path) -> String {
    text.replace("{corpus}", &corpus().display().to_string())
        .replace("{examples}", &examples().display().to_string())
        .replace("{work}", &work.display().to_string())
}

/// Inputs made at run time: too large to commit, or a state git cannot hold.
fn prepare(what: &str, work: &Path) {
    match what {
        "ten-mb-line" => {
            let text = std::fs::read_to_string(corpus().join("comptages/one-day.csv")).unwrap();
            let long = format!(";{};", "X".repeat(10 * 1024 * 1024));
            let text = text.replacen(";Arc_1001;", &long, 1);
            std::fs::write(work.join("ten-mb-line.csv"), text).unwrap();
        }
        "unreadable-metrics-file" => {
            let metrics = work.join("metrics");
            std::fs::create_dir(&metrics).unwrap();
            for e in std::fs::read_dir(examples()).unwrap() {
                let e = e.unwrap();
                std::fs::copy(e.path(), metrics.join(e.file_name())).unwrap();
            }
            let locked = metrics.join("bikes_metrics_2026-03-10.json");
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        "output-dir-is-a-file" => std::fs::write(work.join("a-file"), "not a directory").unwrap(),
        "ten-mb-line-bikes" => {
            let header = "Identifiant du compteur;Nom du compteur;Comptage horaire;Date et heure de comptage";
            let long = "X".repeat(10 * 1024 * 1024);
            std::fs::write(
                work.join("ten-mb-bikes.csv"),
                format!("{header}\nC1;Rue;3;2026-03-10T00:00:00+01:00\nC1;{long};4;2026-03-10T01:00:00+01:00\n"),
            )
            .unwrap();
        }
        "ten-mb-line-chantiers" => {
            let long = "X".repeat(10 * 1024 * 1024);
            std::fs::write(
                work.join("ten-mb-chantiers.csv"),
                format!("Identifiant;Typologie;Date de début;Date de fin\nCP1;1;2026-03-01;2026-03-20\nCP2;{long};2026-03-01;2026-03-20\n"),
            )
            .unwrap();
        }
        "ten-mb-line-jsonl" => {
            let long = "X".repeat(10 * 1024 * 1024);
            std::fs::write(
                work.join("ten-mb-bikes.jsonl"),
                format!("{{\"id_compteur\": \"C1\", \"sum_counts\": 1, \"date\": \"2026-03-10T00:00:00+01:00\"}}\n{long}\n"),
            )
            .unwrap();
        }
        other => panic!("unknown prepare step {other:?}"),
    }
}

fn run(case: &Case, work: &Path) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("cityflow");
    let args: Vec<String> = case.args.iter().map(|a| substitute(a, work)).collect();
    // Root reads any file whatever its mode: the unreadable-file case then runs as `nobody`.
    let as_root = std::fs::metadata(work).unwrap().uid() == 0;
    let mut cmd = if case.prepare.as_deref() == Some("unreadable-metrics-file") && as_root {
        std::fs::set_permissions(work, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    cmd.args(&args).current_dir(work).env_clear();
    for (k, v) in &case.env {
        cmd.env(k, substitute(v, work));
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("{}: cannot run: {e}", case.name))
}

/// What is wrong with the outcome of `case`, if anything.
fn check(case: &Case, work: &Path, out: &Output) -> Vec<String> {
    let mut wrong = Vec::new();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    if code != Some(case.exit) {
        wrong.push(format!("exit {code:?}, expected {}", case.exit));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        wrong.push("panicked".into());
    }
    if let Some(expected) = &case.stderr {
        if !stderr.contains(expected.as_str()) {
            wrong.push(format!("stderr lacks {expected:?}"));
        }
    }
    if case.exit == 2 {
        // One line: the error. (clap adds its hint line to usage errors.)
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("For more information, try"))
            .collect();
        if lines.len() != 1 || !lines[0].starts_with("error: ") {
            wrong.push(format!("not one `error: ` line: {lines:?}"));
        }
    }
    if let Some(counted) = &case.counted {
        match serde_json::from_str::<serde_json::Value>(&stdout) {
            Ok(summary) => {
                for (field, at_least) in counted {
                    // `raw_stats.bikes.counts_rejected`: a path from the summary's root; a
                    // plain name is a field of `stats`. A list counts its entries.
                    let value = if field.contains('.') {
                        field.split('.').fold(&summary, |v, k| &v[k])
                    } else {
                        &summary["stats"][field]
                    };
                    let n = value
                        .as_u64()
                        .or_else(|| value.as_array().map(|a| a.len() as u64))
                        .unwrap_or(0);
                    if n < *at_least {
                        wrong.push(format!("stats.{field} = {n}, expected ≥ {at_least}"));
                    }
                }
                let exports = summary["exports"].as_array().cloned().unwrap_or_default();
                if exports.is_empty()
                    || !exports
                        .iter()
                        .all(|e| e["csv"]["ok"] == true && e["json"]["ok"] == true)
                {
                    wrong.push(format!("the valid rows were not all exported: {exports:?}"));
                }
            }
            Err(e) => wrong.push(format!("--json summary unreadable ({e})")),
        }
    }
    let written = files_under(&work.join("output"));
    if written.len() != case.exported {
        wrong.push(format!(
            "{} file(s) under output/, expected {}: {written:?}",
            written.len(),
            case.exported
        ));
    }
    if case.exit != 0 && !written.is_empty() {
        wrong.push("a failed run left files behind".into());
    }
    wrong
}

#[test]
fn every_bad_input_gives_its_documented_outcome_and_exports_nothing_partial() {
    let cases = cases();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let work = tempfile::tempdir().unwrap();
        if let Some(step) = &case.prepare {
            prepare(step, work.path());
        }
        let out = run(case, work.path());
        let wrong = check(case, work.path(), &out);
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({}): {}\n  stdout: {}\n  stderr: {}",
                case.name,
                case.why,
                wrong.join("; "),
                String::from_utf8_lossy(&out.stdout)
                    .chars()
                    .take(600)
                    .collect::<String>(),
                String::from_utf8_lossy(&out.stderr)
                    .chars()
                    .take(600)
                    .collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_committed_input_file_is_used_by_a_case() {
    // A file no case names is dead weight, or a case that was lost.
    let manifest = std::fs::read_to_string(corpus().join("cases.json")).unwrap();
    for path in files_under(&corpus()) {
        let rel = path.strip_prefix(corpus()).unwrap().display().to_string();
        if rel == "cases.json" || rel == "make_corpus.py" || rel == "README.md" {
            continue;
        }
        let named = rel.split('/').take(2).collect::<Vec<_>>().join("/");
        let stem = named.split('.').next().unwrap().to_string();
        assert!(
            manifest.contains(&format!("{{corpus}}/{stem}")),
            "{rel} is used by no case"
        );
    }
}
