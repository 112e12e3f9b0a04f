//! The definitions of issue 24 on hand-computed fixtures: Paris days (23 and 25 hours on the
//! DST days, never UTC days), duplicates across files counted once, the three failing-counter
//! rules and the total without the failing counters. Every expected figure is worked out in
//! the comments from the records written here.

use std::path::Path;

use chrono::NaiveDate;
use cityflow_ingest::BikeCounts;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn record(id: &str, when: &str, count: &str) -> String {
    format!(
        r#"{{"id_compteur": "{id}", "nom_compteur": "{id}", "sum_counts": {count}, "date": "{when}", "coordinates": {{"lon": 2.35, "lat": 48.85}}}}"#
    )
}

fn read(files: &[(&str, String)]) -> BikeCounts {
    let mut b = BikeCounts::new();
    for (name, text) in files {
        b.read(
            Path::new(name),
            std::io::Cursor::new(text.clone().into_bytes()),
        )
        .unwrap();
    }
    b
}

/// Every hour of a Paris day as RFC 3339 instants with their offset, from local midnight.
fn hours_of(date: &str) -> Vec<String> {
    use chrono::TimeZone;
    let paris = chrono_tz::Europe::Paris;
    let d = day(date);
    let start = paris
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .single()
        .unwrap();
    (0..26)
        .map(|h| start + chrono::TimeDelta::hours(h))
        .take_while(|t| t.date_naive() == d)
        .map(|t| t.to_rfc3339())
        .collect()
}

#[test]
fn the_spring_day_has_23_hours_and_the_autumn_day_25() {
    let spring = hours_of("2025-03-30");
    let autumn = hours_of("2025-10-26");
    assert_eq!((spring.len(), autumn.len()), (23, 25));
    // Counter A counts h+1 in hour h of each day: 1 + … + 23 = 276 in spring, 1 + … + 25 =
    // 325 in autumn. Counter B misses the second 02:00 of the autumn day (slot 3) only.
    let mut lines = Vec::new();
    for (i, t) in spring.iter().enumerate() {
        lines.push(record("A", t, &(i + 1).to_string()));
        lines.push(record("B", t, &(i % 7 + 1).to_string()));
    }
    for (i, t) in autumn.iter().enumerate() {
        lines.push(record("A", t, &(i + 1).to_string()));
        if i != 3 {
            lines.push(record("B", t, &(i % 7 + 1).to_string()));
        }
    }
    let b = read(&[("dst.jsonl", lines.join("\n"))]);
    let s = b.day(day("2025-03-30"));
    // B on the spring day: 1..7 repeated over 23 hours = 3×28 + (1+2) = 87.
    assert_eq!(s.total, 276 + 87);
    assert!(s.failing.is_empty());
    let a = b.day(day("2025-10-26"));
    // B on the autumn day: 24 of 25 hours, 1..7 repeated over slots 0..24 without slot 3
    // (value 4): 3×28 + (1+2+3+4) − 4 = 90.
    assert_eq!(a.total, 325 + 90);
    assert_eq!(b.hours(1, day("2025-10-26")).len(), 25);
    assert_eq!(b.hours(1, day("2025-10-26"))[3], None);
}

#[test]
fn a_record_belongs_to_its_paris_day_not_its_utc_day() {
    // 23:30 UTC on the 3rd is 00:30 in Paris on the 4th; 22:59 UTC stays on the 3rd.
    let b = read(&[(
        "utc.json",
        format!(
            "[{}, {}]",
            record("A", "2025-11-03T23:30:00Z", "10"),
            record("A", "2025-11-03T22:59:00+00:00", "3")
        ),
    )]);
    assert_eq!(
        b.days().into_iter().collect::<Vec<_>>(),
        [day("2025-11-03"), day("2025-11-04")]
    );
    assert_eq!(b.hours(0, day("2025-11-04"))[0], Some(10));
    assert_eq!(b.hours(0, day("2025-11-03"))[23], Some(3));
}

#[test]
fn overlapping_files_count_each_counter_hour_once_and_the_later_file_wins() {
    let hours = hours_of("2025-11-04");
    let page = |range: std::ops::Range<usize>, base: usize| {
        let recs: Vec<String> = range
            .map(|h| record("A", &hours[h], &(base + h).to_string()))
            .collect();
        format!(r#"{{"total_count": 24, "results": [{}]}}"#, recs.join(","))
    };
    // Page 1: hour h counts 100 + h for hours 0–15; page 2: 200 + h for hours 10–23 (hours
    // 10–15 overlap). The old tool summed both: (1,600 + 120) + (2,800 + 231) = 4,751. Once
    // each, page 2 read last: (1,000 + 45) + (2,800 + 231) = 4,076.
    let b = read(&[
        ("p1.json", page(0..16, 100)),
        ("p2.json", page(10..24, 200)),
    ]);
    assert_eq!(b.stats.duplicates, 6);
    assert_eq!(b.day(day("2025-11-04")).total, 4076);
}

#[test]
fn the_total_leaves_out_the_failing_counters() {
    let hours = hours_of("2025-11-04");
    let mut recs = Vec::new();
    for (h, t) in hours.iter().enumerate() {
        recs.push(record("OK", t, &(h % 5 + 1).to_string())); // 1..5 ×4 + 1..4 = 70
        recs.push(record("ZERO", t, "0")); // all zero: failing
        recs.push(record("STUCK", t, if h < 13 { "9" } else { "1" })); // 9 in 13 hours
        if h >= 6 {
            recs.push(record("GAPS", t, &(h % 3 + 1).to_string())); // hours 0–5 missing: failing
        }
        if h >= 5 {
            // Hours 0–4 missing: 5 < 6, counted: the sum of (h mod 4) + 1 for h in 5..24 = 49.
            recs.push(record("FIVE", t, &(h % 4 + 1).to_string()));
        }
    }
    // A counter seen only on another day fails on this one (24 hours without a count).
    recs.push(record("ELSEWHERE", "2025-11-05T08:00:00+01:00", "4"));
    let b = read(&[("d.jsonl", recs.join("\n"))]);
    let d = b.day(day("2025-11-04"));
    assert_eq!(d.total, 70 + 49);
    let failing: Vec<(&str, Option<usize>)> = d
        .failing
        .iter()
        .map(|f| {
            (
                f.id_compteur.as_str(),
                f.heures_manquantes.as_ref().map(Vec::len),
            )
        })
        .collect();
    assert_eq!(
        failing,
        [
            ("ELSEWHERE", Some(24)),
            ("GAPS", Some(6)),
            ("STUCK", None),
            ("ZERO", None)
        ]
    );
    assert!(d.failing[2]
        .raison
        .as_deref()
        .unwrap()
        .contains("(9) pendant 13 heures"));
}

#[test]
fn the_csv_export_and_the_json_records_give_the_same_figures() {
    let hours = hours_of("2025-10-26");
    let header = "Identifiant du compteur;Nom du compteur;Identifiant du site de comptage;Nom du site de comptage;Comptage horaire;Date et heure de comptage;Date d'installation du site de comptage;Lien vers photo du site de comptage;Coordonnées géographiques;Identifiant technique compteur;ID Photos;test_lien_vers_photos_du_site_de_comptage_;id_photo_1;url_sites;type_dispositif;mois_annee_comptage";
    let mut csv = vec![header.to_string()];
    let mut json = Vec::new();
    for (h, t) in hours.iter().enumerate() {
        let n = (h * 3 % 11).to_string();
        csv.push(format!(
            "100003096-353242251;97 avenue Denfert Rochereau SO-NE;100003096;97 avenue Denfert Rochereau;{n};{t};2012-02-22;https://example.invalid/p.jpg;48.83511,2.33338;Y2H19070373;;;;;Boucle;2025-10"
        ));
        json.push(record("100003096-353242251", t, &n));
    }
    let from_csv = read(&[("velo.csv", csv.join("\n") + "\n")]);
    let from_json = read(&[("velo.jsonl", json.join("\n"))]);
    let d = day("2025-10-26");
    assert_eq!(from_csv.day(d), from_json.day(d));
    assert_eq!(from_csv.hours(0, d), from_json.hours(0, d));
    assert_eq!(from_csv.counters()[0].point, Some((48.83511, 2.33338)));
}
