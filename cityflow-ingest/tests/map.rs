//! The map of the day: a golden SVG for a tiny network, and the arcs it draws.
//!
//! `UPDATE_GOLDEN=1 cargo test -p cityflow-ingest --test map` rewrites the golden file; the
//! diff is then reviewed like code.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use cityflow_core::Timestamp;
use cityflow_ingest::map::{DayMap, MapCounter, MapRoadwork};
use cityflow_ingest::simulate::{simulate, Network, SimulateOptions};
use cityflow_ingest::{ingest_bytes, DaySelection, Roadworks};

const HEADER: &str = "Identifiant arc;Libelle;Date et heure de comptage;Débit horaire;Taux d'occupation;Etat trafic;Etat arc;geo_point_2d;geo_shape";

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Four arcs on 2026-03-10: a busy one on the Rivoli axis (two segments), a quiet one, one
/// without occupancy (grey on the map) and one without geometry (not drawn).
fn tiny_comptages() -> String {
    let arcs = [
        (
            "1",
            "Rue de Rivoli",
            "48.8590, 2.3470",
            r#"{""type"": ""MultiLineString"", ""coordinates"": [[[2.3400, 48.8600], [2.3470, 48.8590]], [[2.3470, 48.8590], [2.3550, 48.8570]]]}"#,
            900,
            Some("42.5"),
        ),
        (
            "2",
            "Bd Saint-Michel",
            "48.8480, 2.3410",
            r#"{""type"": ""LineString"", ""coordinates"": [[2.3420, 48.8530], [2.3410, 48.8480], [2.3395, 48.8430]]}"#,
            300,
            Some("8.0"),
        ),
        (
            "3",
            "Quai de Bercy",
            "48.8350, 2.3800",
            r#"{""type"": ""LineString"", ""coordinates"": [[2.3750, 48.8380], [2.3850, 48.8320]]}"#,
            120,
            None,
        ),
        (
            "4",
            "Arc sans géométrie",
            "48.8700, 2.3300",
            "",
            50,
            Some("3.0"),
        ),
    ];
    let mut csv = format!("{HEADER}\n");
    for hour in 0..24 {
        for (id, libelle, point, shape, flow, taux) in &arcs {
            let shape = if shape.is_empty() {
                String::new()
            } else {
                format!("\"{shape}\"")
            };
            csv.push_str(&format!(
                "{id};{libelle};2026-03-10T{hour:02}:00:00+01:00;{flow};{};Fluide;Ouvert;{point};{shape}\n",
                taux.unwrap_or("")
            ));
        }
    }
    csv
}

const TINY_CHANTIERS: &str = "Identifiant;Typologie;Date de début;Date de fin;Impact sur la circulation;Code postal de l'arrondissement;geo_shape;geo_point_2d
CP1;1;2026-03-01;2026-03-31;RESTREINTE;75004;\"{\"\"type\"\": \"\"Polygon\"\", \"\"coordinates\"\": [[[2.3500, 48.8560], [2.3530, 48.8560], [2.3530, 48.8575], [2.3500, 48.8575], [2.3500, 48.8560]]]}\";48.8567, 2.3515
CP2;1;2026-04-01;2026-04-30;IMPASSE;75005;\"{\"\"type\"\": \"\"Polygon\"\", \"\"coordinates\"\": [[[2.3400, 48.8450], [2.3420, 48.8450], [2.3420, 48.8460], [2.3400, 48.8450]]]}\";48.8455, 2.3410
";

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/daily_map_tiny.svg")
}

fn arcs_drawn(svg: &str) -> usize {
    svg.matches("<path class=\"arc ").count()
}

#[test]
fn the_map_of_a_tiny_network_is_the_reviewed_one() {
    let day = date("2026-03-10");
    let ingested = ingest_bytes(
        Path::new("tiny.csv"),
        tiny_comptages().into_bytes(),
        DaySelection::One(day),
        1,
    )
    .unwrap();
    let (report, occupancy) = ingested.report_with_occupancy(day, Timestamp::now());
    assert_eq!(occupancy[2], None, "arc 3 has no occupancy");
    let mut works = Roadworks::new();
    works
        .read(
            Path::new("chantiers.csv"),
            std::io::Cursor::new(TINY_CHANTIERS),
        )
        .unwrap();
    let active = works.rows_active_on(day);
    assert_eq!(active.len(), 1, "CP2 starts in April");
    let map = DayMap {
        date: Some(day),
        arcs: ingested.map_arcs(&occupancy),
        top: report
            .top_10_troncons_frequentes
            .iter()
            .map(|a| a.identifiant_arc.as_str())
            .collect(),
        roadworks: active
            .iter()
            .map(|r| MapRoadwork {
                id: &r.roadwork.identifiant,
                shape: r.shape.as_ref().unwrap(),
            })
            .collect(),
        counters: vec![
            MapCounter {
                name: "Totem <Rivoli>",
                point: (48.8585, 2.3480),
                count: 4_000,
            },
            MapCounter {
                name: "Quai",
                point: (48.8360, 2.3790),
                count: 250,
            },
        ],
        built_from_ms: Some(1_773_100_000_000),
    };
    let svg = map.render();

    assert_eq!(
        arcs_drawn(&svg),
        3,
        "every arc with a geometry, not the fourth"
    );
    assert!(svg.contains("Totem &lt;Rivoli&gt;"), "names are escaped");
    assert!(
        svg.contains("class=\"arc o7\""),
        "42.5 % is in the ≥ 40 % class"
    );
    assert!(svg.contains("class=\"arc nd\""), "no occupancy: grey");
    assert!(!svg.contains("<script"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden_path(), &svg).unwrap();
    }
    let golden = std::fs::read_to_string(golden_path()).unwrap();
    assert_eq!(
        svg, golden,
        "the map differs from tests/golden/daily_map_tiny.svg (UPDATE_GOLDEN=1 to accept)"
    );
}

#[test]
fn every_arc_with_a_geometry_is_drawn_once() {
    let day = date("2026-03-10");
    let mut csv = Vec::new();
    simulate(
        &SimulateOptions {
            from: day,
            to: day,
            network: Network::Synthetic(400),
            seed: 3,
        },
        &mut csv,
    )
    .unwrap();
    let ingested = ingest_bytes(Path::new("sim.csv"), csv, DaySelection::One(day), 2).unwrap();
    let (report, occupancy) = ingested.report_with_occupancy(day, Timestamp::now());
    let with_geometry = ingested
        .aggregate
        .arcs
        .iter()
        .filter(|a| a.has_geometry)
        .count();
    assert!(with_geometry > 300, "{with_geometry}");
    let map = DayMap {
        date: Some(day),
        arcs: ingested.map_arcs(&occupancy),
        top: report
            .top_10_troncons_frequentes
            .iter()
            .map(|a| a.identifiant_arc.as_str())
            .collect(),
        ..DayMap::default()
    };
    let svg = map.render();
    assert_eq!(arcs_drawn(&svg), with_geometry);
    assert_eq!(map.drawn_arcs(), with_geometry);
    assert_eq!(
        with_geometry as u64,
        ingested.aggregate.arcs.len() as u64 - ingested.aggregate.stats.arcs_without_geometry
    );
    let top = report.top_10_troncons_frequentes.len();
    assert_eq!(top, 10);
    for rank in 1..=top {
        assert!(
            svg.contains(&format!(">{rank}</text>")),
            "number {rank} is on the map"
        );
    }
}
