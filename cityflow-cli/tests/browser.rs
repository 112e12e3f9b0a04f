//! The pages in a real browser: Debian's Chromium, headless, loads the dashboard, a report
//! page and the map of its day from `cityflow serve`, over 30 simulated days of raw data
//! (road counts on 200 arcs, bike counters, weather, roadworks) exported by the normal
//! pipeline.
//!
//! - The DOM Chromium built holds the charts, the top arc's name and the embedded map.
//! - axe-core (pinned, from npm: `scripts/node-tools`) finds no violation on either page.
//!   Its run is checked against a page with a known violation, so that a harness that finds
//!   nothing cannot pass for a clean page.
//! - Screenshots go to `target/test-artefacts/` and are compared with `docs/dashboard.png`,
//!   `docs/report.png` and `docs/map.png`: the test fails when more than 2 % of the pixels
//!   differ. `UPDATE_SCREENSHOTS=1` rewrites the ones in `docs/` (`scripts/screenshot`).
//!
//! Needs `chromium` on the PATH (or `CHROMIUM`) and the Node tools (`scripts/node-tools`, or
//! `AXE_CORE_JS`); `scripts/test` provides both. With `CI=true` a missing one fails the test
//! instead of skipping it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::cityflow;
use common::server::Server;

const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("chromium"))
                .find(|p| p.is_file())
        })
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "chromium is not installed and CI=true (scripts/test installs it)"
        );
        eprintln!("skipped: no chromium on the PATH (apt-get install chromium)");
    }
    found
}

/// axe-core's script: `AXE_CORE_JS`, else the one `scripts/node-tools` installed.
fn axe_core() -> Option<PathBuf> {
    let found = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .or_else(|| {
            std::fs::read_dir(repo().join(".services"))
                .ok()?
                .flatten()
                .map(|e| e.path().join("node_modules/axe-core/axe.min.js"))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        assert!(
            !in_ci(),
            "axe-core is not installed and CI=true (scripts/node-tools installs it)"
        );
        eprintln!("skipped: no axe-core (run scripts/node-tools)");
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

fn dom(chromium: &Path, profile: &Path, url: &str, extra: &[&str]) -> String {
    let out = browser(chromium, profile)
        .args(extra)
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

fn screenshot(chromium: &Path, profile: &Path, url: &str, file: &Path, size: (u32, u32)) {
    let out = browser(chromium, profile)
        .arg(format!("--screenshot={}", file.display()))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn artefacts() -> PathBuf {
    let dir = repo().join("target/test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// RGBA pixels and size of a PNG.
fn pixels(file: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
    ));
    let mut decoder = decoder;
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgba, "{}", file.display());
    (info.width, info.height, buf)
}

/// The share of pixels of `a` and `b` that differ by more than a rendering's noise.
fn differing_share(a: &Path, b: &Path) -> f64 {
    let (wa, ha, pa) = pixels(a);
    let (wb, hb, pb) = pixels(b);
    if (wa, ha) != (wb, hb) {
        return 1.0;
    }
    let differ = pa
        .chunks_exact(4)
        .zip(pb.chunks_exact(4))
        .filter(|(x, y)| x.iter().zip(y.iter()).any(|(p, q)| p.abs_diff(*q) > 24))
        .count();
    differ as f64 / (wa as f64 * ha as f64)
}

/// Compares the screenshot `shot` with `docs/{name}`, or replaces it with
/// `UPDATE_SCREENSHOTS=1`. Fails beyond 2 % of differing pixels.
fn matches_docs(shot: &Path, name: &str) {
    let committed = repo().join("docs").join(name);
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        std::fs::copy(shot, &committed).unwrap();
        return;
    }
    let share = differing_share(shot, &committed);
    assert!(
        share <= 0.02,
        "docs/{name} is not what the pages render: {:.1} % of its pixels differ from {} \
         (UPDATE_SCREENSHOTS=1 cargo test -p cityflow-cli --test browser, or scripts/screenshot)",
        share * 100.0,
        shot.display()
    );
}

/// Runs axe-core on `url`'s page as Chromium loads it and returns its violations (JSON) and
/// how many rules passed. The page's HTML is fetched from the server and loaded from a file
/// with axe-core and a runner added (our pages carry no script, and a file page may load
/// the local `axe.min.js`); `<base>` keeps its links and images on the server.
fn axe(
    chromium: &Path,
    profile: &Path,
    axe_js: &Path,
    base: &str,
    html: &str,
    work: &Path,
) -> (serde_json::Value, u64) {
    let runner = r#"<script>
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
  .then(function (r) {
    var out = document.createElement("pre"); out.id = "axe-results";
    out.setAttribute("data-passes", r.passes.length);
    out.textContent = JSON.stringify(r.violations.map(function (v) {
      return {id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(" "); })};
    }));
    document.body.appendChild(out);
  }, function (e) {
    var out = document.createElement("pre"); out.id = "axe-results"; out.textContent = "ERROR " + e;
    document.body.appendChild(out);
  });
</script>"#;
    let page = html
        .replacen(
            "<head>",
            &format!(
                "<head><base href=\"{base}/\"><script src=\"file://{}\"></script>",
                axe_js.display()
            ),
            1,
        )
        .replacen("</body>", &format!("{runner}</body>"), 1);
    let file = work.join("axe-page.html");
    std::fs::write(&file, page).unwrap();
    let dom = dom(
        chromium,
        profile,
        &format!("file://{}", file.display()),
        &[
            "--allow-file-access-from-files",
            "--virtual-time-budget=20000",
        ],
    );
    let start = dom
        .find("<pre id=\"axe-results\"")
        .unwrap_or_else(|| panic!("axe-core did not report (did it load?)"));
    let passes: u64 = dom[start..]
        .split("data-passes=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = &dom[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</pre>").unwrap()];
    let text = body
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    assert!(!text.starts_with("ERROR"), "axe-core failed: {text}");
    (serde_json::from_str(&text).unwrap(), passes)
}

/// 30 simulated days of road counts (200 arcs), bike counters, weather and roadworks,
/// exported.
fn export_simulated_month(dir: &Path) {
    let run = |args: &[&str]| {
        cityflow(dir, &[]).args(args).assert().success();
    };
    let period = ["--from", "2026-02-09", "--to", "2026-03-10", "--seed", "7"];
    fn with_period<'a>(head: &[&'a str], period: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
        [head, period, tail].concat()
    }
    run(&with_period(
        &["simulate", "comptages"],
        &period,
        &["--arcs", "200", "--out", "comptages.csv.gz"],
    ));
    run(&with_period(
        &["simulate", "bikes"],
        &period,
        &["--sites", "20", "--out", "bikes.json"],
    ));
    run(&with_period(
        &["simulate", "chantiers"],
        &period,
        &["--count", "12", "--out", "chantiers.csv"],
    ));
    run(&with_period(
        &["simulate", "weather"],
        &period,
        &["--out", "weather.json"],
    ));
    run(&[
        "report",
        "generate",
        "--comptages",
        "comptages.csv.gz",
        "--bikes",
        "bikes.json",
        "--weather",
        "weather.json",
        "--chantiers",
        "chantiers.csv",
        "--all",
    ]);
}

#[test]
fn chromium_renders_the_pages_and_the_map_accessibly() {
    let Some(chromium) = chromium() else {
        return;
    };
    let Some(axe_js) = axe_core() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    export_simulated_month(dir.path());
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

    let dashboard = dom(&chromium, profile.path(), &format!("{base}/"), &[]);
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
    assert!(dashboard.contains("10 mars 2026"), "French dates");

    let report_url = format!("{base}/reports/2026-03-10.html");
    let page = dom(&chromium, profile.path(), &report_url, &[]);
    assert!(page.contains("id=\"top-troncons\"") && page.contains("id=\"top-zones\""));
    assert!(
        page.contains(&top_arc),
        "the top arc {top_arc:?} is in the page's DOM"
    );
    assert!(
        page.contains("<th scope=\"col\">"),
        "tables have header cells"
    );
    assert!(
        page.contains("<img src=\"/reports/2026-03-10/map.svg\""),
        "the page embeds the map"
    );
    assert!(page.contains(">Paris "), "zones read Paris 13e");
    for code in 75001..=75020 {
        assert!(
            !page.contains(&format!(">{code}<")),
            "{code} shown as a code"
        );
    }
    let map = server.get("/reports/2026-03-10/map.svg");
    assert_eq!(map.0, 200);
    let svg = String::from_utf8(map.2).unwrap();

    // Accessibility: the harness finds a known violation, then none on our pages.
    let work = tempfile::tempdir().unwrap();
    let (control, _) = axe(
        &chromium,
        profile.path(),
        &axe_js,
        &base,
        "<!DOCTYPE html><html lang=\"fr\"><head><title>t</title></head><body><main><img src=\"x.png\"></main></body></html>",
        work.path(),
    );
    assert!(
        control.to_string().contains("image-alt"),
        "axe-core must flag an image without alt: {control}"
    );
    for path in ["/", "/reports/2026-03-10.html"] {
        let (_, _, html) = server.get(path);
        let (violations, passes) = axe(
            &chromium,
            profile.path(),
            &axe_js,
            &base,
            &String::from_utf8(html).unwrap(),
            work.path(),
        );
        assert!(
            passes > 10,
            "axe-core ran its rules on {path} ({passes} passed)"
        );
        assert_eq!(
            violations,
            serde_json::json!([]),
            "accessibility violations on {path}"
        );
    }

    // Screenshots: kept as artefacts, and compared with the docs'.
    let out = artefacts();
    screenshot(
        &chromium,
        profile.path(),
        &format!("{base}/"),
        &out.join("dashboard.png"),
        (1280, 1700),
    );
    screenshot(
        &chromium,
        profile.path(),
        &report_url,
        &out.join("report.png"),
        (1280, 3600),
    );
    let map_height: u32 = svg
        .split(" height=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    screenshot(
        &chromium,
        profile.path(),
        &format!("{base}/reports/2026-03-10/map.svg"),
        &out.join("map.png"),
        (1000, map_height),
    );
    for name in ["dashboard.png", "report.png", "map.png"] {
        let png = std::fs::read(out.join(name)).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{name} is a real picture"
        );
        matches_docs(&out.join(name), name);
    }
}
