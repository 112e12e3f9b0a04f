//! The README's sample outputs are what the commands print: the main job's console output,
//! byte for byte but for its timings, and the stages `scripts/test` announces, in order.

mod common;

use std::path::{Path, PathBuf};

use common::{cityflow, mask_numbers_after, stdout_of};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fenced blocks of `text` with their info string (`sh`, `text`, …), in order.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => blocks.push(current.take().unwrap()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The `text` block that follows the `sh` block running `command`.
fn sample_output_of(readme: &str, command: &str) -> String {
    let blocks = fenced_blocks(readme);
    let at = blocks
        .iter()
        .position(|(info, body)| info == "sh" && body.trim() == command)
        .unwrap_or_else(|| panic!("the README runs `{command}` in an sh block"));
    let (info, body) = blocks
        .get(at + 1)
        .unwrap_or_else(|| panic!("a sample output follows `{command}`"));
    assert_eq!(info, "text", "the block after `{command}` is its output");
    body.clone()
}

fn mask_timings(text: &str) -> String {
    let mut out = text.to_string();
    for (key, unit) in [
        (" Mo en ", " s,"),
        ("export : ", " s,"),
        ("s, ", " rapports/s"),
    ] {
        out = mask_numbers_after(&out, key, unit);
    }
    out
}

#[test]
fn the_main_jobs_output_is_the_one_the_readme_shows() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let command =
        "cargo run -p cityflow-cli -- report generate --date 2026-03-10 --raw examples/raw";
    let shown = sample_output_of(&readme, command);

    // Run where `examples/` is the repository's, so that paths print as in the README,
    // and `output/` is a fresh directory.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("examples"), dir.path().join("examples")).unwrap();
    let args: Vec<&str> = command.split(" ").skip(5).collect();
    let run = cityflow(dir.path(), &[]).args(&args).assert().success();
    let printed = stdout_of(&run);

    assert_eq!(
        mask_timings(&printed),
        mask_timings(&shown),
        "the README's sample output of command 1 is not what it prints; printed:\n{printed}"
    );
    for written in [
        "output/reports/daily_report_2026-03-10.csv",
        "output/reports/daily_report_2026-03-10.json",
        "output/maps/daily_map_2026-03-10.svg",
    ] {
        assert!(
            dir.path().join(written).is_file(),
            "the README says command 1 writes {written}"
        );
    }
}

/// The stages `scripts/test` always runs: its top-level `echo "== …"` lines, in order.
fn stages_of(script: &Path) -> Vec<String> {
    std::fs::read_to_string(script)
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("echo \"== "))
        .map(|rest| format!("== {}", rest.trim_end_matches('"')))
        .collect()
}

#[test]
fn the_test_suites_stages_are_the_ones_the_readme_shows() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let shown: Vec<String> = sample_output_of(&readme, "scripts/test")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(shown, stages_of(&repo().join("scripts/test")));
}

#[test]
fn fenced_blocks_are_split_with_their_info_string() {
    let blocks = fenced_blocks("a\n```sh\nrun\n```\nb\n```text\nout\nmore\n```\n");
    assert_eq!(
        blocks,
        vec![
            ("sh".to_string(), "run\n".to_string()),
            ("text".to_string(), "out\nmore\n".to_string())
        ]
    );
}
