//! The pages in a real browser: Debian's Chromium, headless, loads the dashboard and a report
//! page from `cityflow serve`. The DOM it built must hold the SVG charts and the top arc's
//! name; screenshots are kept as test artefacts in `target/test-artefacts/`.
//!
//! Needs `chromium` on the PATH (or `CHROMIUM`); `scripts/test` installs it when missing.
//! With `CI=true` a missing browser fails the test instead of skipping it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::server::{export_example_day, Server};

const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
];

fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("chromium"))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !in_ci,
            "chromium is not installed and CI=true (scripts/test installs it)"
        );
        eprintln!("skipped: no chromium on the PATH (apt-get install chromium)");
    }
    found
}

/// Chromium with its own profile directory, so that runs never share state.
fn browser(chromium: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args(FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .env("HOME", profile);
    cmd
}

fn dom(chromium: &Path, profile: &Path, url: &str) -> String {
    let out = browser(chromium, profile)
        .args(["--dump-dom", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn screenshot(chromium: &Path, profile: &Path, url: &str, file: &Path, height: u32) {
    let out = browser(chromium, profile)
        .arg(format!("--screenshot={}", file.display()))
        .arg(format!("--window-size=1280,{height}"))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(file).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} is a real picture",
        file.display()
    );
}

fn artefacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn chromium_renders_the_dashboard_and_a_report_page() {
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    export_example_day(dir.path());
    let stored: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join("output/reports/daily_report_2026-03-10.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let top_arc = stored["report"]["top_10_troncons_frequentes"][0]["libelle"]
        .as_str()
        .unwrap()
        .to_string();
    let server = Server::start(dir.path(), &[]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let profile = tempfile::tempdir().unwrap();

    let dashboard = dom(&chromium, profile.path(), &format!("{base}/"));
    assert!(dashboard.contains("<html lang=\"fr\">"), "{dashboard}");
    for chart in [
        "trend-vehicules",
        "trend-temps-perdu",
        "trend-satures",
        "trend-disponibilite",
        "trend-velos",
    ] {
        assert!(
            dashboard.contains(&format!("id=\"{chart}\"")),
            "{chart} in the dashboard's DOM"
        );
    }
    assert_eq!(dashboard.matches("<svg").count(), 5);
    assert!(dashboard.contains("href=\"/reports/2026-03-10.html\""));

    let page = dom(
        &chromium,
        profile.path(),
        &format!("{base}/reports/2026-03-10.html"),
    );
    assert!(page.contains("id=\"top-troncons\"") && page.contains("id=\"top-zones\""));
    assert!(
        page.contains(&top_arc),
        "the top arc {top_arc:?} is in the page's DOM"
    );
    assert!(
        page.contains("<th scope=\"col\">"),
        "tables have header cells"
    );

    let out = artefacts();
    screenshot(
        &chromium,
        profile.path(),
        &format!("{base}/"),
        &out.join("dashboard.png"),
        1700,
    );
    screenshot(
        &chromium,
        profile.path(),
        &format!("{base}/reports/2026-03-10.html"),
        &out.join("report-2026-03-10.png"),
        2400,
    );
}
