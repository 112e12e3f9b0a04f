//! The HTML pages, in French, rendered on the server: no JavaScript, nothing fetched from
//! elsewhere (styles inline, charts inline SVG). Every string that comes from data goes
//! through [`escape`].

use std::fmt::Write;

use cityflow_core::{ReportSummary, StoredReport, Summary};

use crate::charts::{bar_chart, escape, line_chart};
use crate::fr::{self, number as fr_number, or_unknown, unknown};

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f7f7f5}\
header{background:#1f4e79;color:#fff;padding:0.8rem 1.5rem}header a{color:#fff}\
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem}\
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:0.8rem}\
.card{background:#fff;border:1px solid #ccc;border-radius:6px;padding:0.8rem}\
.card .label{font-size:0.85rem;color:#444}.card .value{font-size:1.5rem;font-weight:600}\
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));gap:1rem}\
figure{background:#fff;border:1px solid #ccc;border-radius:6px;margin:0;padding:0.5rem}\
figcaption{font-weight:600;margin-bottom:0.3rem}svg.chart{width:100%;height:auto}\
table{border-collapse:collapse;background:#fff;width:100%;margin:0.5rem 0 1.5rem}\
th,td{border:1px solid #ccc;padding:0.3rem 0.5rem;text-align:left}th{background:#e8eef5}\
td.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#555}\
.unknown{cursor:help;text-decoration:underline dotted}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
figure.map img{width:100%;height:auto}figure.map figcaption{font-weight:400}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\
         <header><a href=\"/\">CityFlow — trafic routier à Paris</a></header><main>{body}</main></body></html>\n",
        escape(title)
    )
}

fn cards(summary: &Summary) -> String {
    let availability = or_unknown(
        summary
            .taux_disponibilite_capteurs
            .map(|v| fr::percent(v, 1)),
        "aucun comptage routier ce jour-là",
    );
    let items = [
        (
            "Véhicules comptés",
            escape(&fr_number(summary.total_vehicules_paris as f64, 0)),
        ),
        (
            "Temps perdu (min)",
            escape(&fr_number(summary.temps_perdu_total_minutes, 1)),
        ),
        (
            "Tronçons saturés",
            escape(&fr_number(summary.nombre_troncons_satures as f64, 0)),
        ),
        ("Disponibilité des capteurs", availability),
        (
            "Vélos comptés",
            escape(&fr_number(summary.total_velos_paris as f64, 0)),
        ),
    ];
    let mut out = String::from("<div class=\"cards\">");
    for (label, value) in items {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"label\">{label}</div><div class=\"value\">{value}</div></div>"
        );
    }
    out.push_str("</div>");
    out
}

fn figure(caption: &str, svg: String) -> String {
    format!(
        "<figure><figcaption>{}</figcaption>{svg}</figure>",
        escape(caption)
    )
}

/// A table: `headers`, then `rows` of cells already escaped; numeric columns by index.
fn table(caption: &str, headers: &[&str], rows: &[Vec<String>], numeric: &[usize]) -> String {
    if rows.is_empty() {
        return format!("<p class=\"muted\">{} : aucun.</p>", escape(caption));
    }
    let mut out = format!(
        "<table><caption class=\"muted\">{}</caption><thead><tr>",
        escape(caption)
    );
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(out, "<th scope=\"row\">{cell}</th>");
            } else if numeric.contains(&i) {
                let _ = write!(out, "<td class=\"num\">{cell}</td>");
            } else {
                let _ = write!(out, "<td>{cell}</td>");
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// `/`: the latest day's cards, the trends over the reports shown, and their dates.
pub fn dashboard(reports: &[ReportSummary]) -> String {
    let mut body = String::from("<h1>Tableau de bord du trafic parisien</h1>");
    let Some(latest) = reports.last() else {
        body.push_str("<p>Aucun rapport n'est encore disponible.</p>");
        return layout("CityFlow — tableau de bord", &body);
    };
    let _ = write!(
        body,
        "<section aria-labelledby=\"latest\"><h2 id=\"latest\">Dernier rapport : <a href=\"/reports/{d}.html\">{}</a></h2>{}</section>",
        fr::date(latest.date),
        cards(&latest.summary),
        d = latest.date
    );
    let series = |f: &dyn Fn(&Summary) -> Option<f64>| -> Vec<(chrono::NaiveDate, Option<f64>)> {
        reports.iter().map(|r| (r.date, f(&r.summary))).collect()
    };
    let first = reports.first().map(|r| r.date).unwrap_or(latest.date);
    let _ = write!(
        body,
        "<section aria-labelledby=\"trends\"><h2 id=\"trends\">Tendances du {} au {} ({} rapports)</h2><div class=\"charts\">",
        fr::date(first),
        fr::date(latest.date),
        reports.len()
    );
    let charts: [(&str, &str, &str, usize, Vec<_>); 5] = [
        (
            "trend-vehicules",
            "Véhicules comptés par jour",
            "véhicules",
            0,
            series(&|s| Some(s.total_vehicules_paris as f64)),
        ),
        (
            "trend-temps-perdu",
            "Temps perdu total (minutes)",
            "minutes",
            1,
            series(&|s| Some(s.temps_perdu_total_minutes)),
        ),
        (
            "trend-satures",
            "Tronçons saturés",
            "tronçons",
            0,
            series(&|s| Some(s.nombre_troncons_satures as f64)),
        ),
        (
            "trend-disponibilite",
            "Disponibilité des capteurs (%)",
            "%",
            1,
            series(&|s| s.taux_disponibilite_capteurs),
        ),
        (
            "trend-velos",
            "Vélos comptés par jour",
            "vélos",
            0,
            series(&|s| Some(s.total_velos_paris as f64)),
        ),
    ];
    for (id, title, unit, decimals, points) in charts {
        body.push_str(&figure(
            title,
            line_chart(id, title, &points, unit, decimals),
        ));
    }
    body.push_str("</div></section>");
    let rows: Vec<Vec<String>> = reports
        .iter()
        .rev()
        .map(|r| {
            let s = &r.summary;
            vec![
                format!(
                    "<a href=\"/reports/{d}.html\">{}</a>",
                    fr::date(r.date),
                    d = r.date
                ),
                escape(&fr_number(s.total_vehicules_paris as f64, 0)),
                escape(&fr_number(s.temps_perdu_total_minutes, 1)),
                escape(&fr_number(s.nombre_troncons_satures as f64, 0)),
                or_unknown(
                    s.taux_disponibilite_capteurs.map(|v| fr::percent(v, 1)),
                    "aucun comptage routier ce jour-là",
                ),
                escape(&fr_number(s.total_velos_paris as f64, 0)),
                format!(
                    "<a href=\"/reports/{d}\">JSON</a> · <a href=\"/reports/{d}.csv\">CSV</a>",
                    d = r.date
                ),
            ]
        })
        .collect();
    body.push_str("<section aria-labelledby=\"dates\"><h2 id=\"dates\">Rapports</h2>");
    body.push_str(&table(
        "Rapports disponibles, du plus récent au plus ancien (les valeurs des graphiques)",
        &[
            "Date",
            "Véhicules",
            "Temps perdu (min)",
            "Tronçons saturés",
            "Disponibilité des capteurs",
            "Vélos",
            "Données",
        ],
        &rows,
        &[1, 2, 3, 4, 5],
    ));
    body.push_str("</section>");
    layout("CityFlow — tableau de bord", &body)
}

/// A figure of a table, or a dash saying `why` it is unknown.
fn opt(value: Option<f64>, decimals: usize, why: &str) -> String {
    or_unknown(value.map(|v| fr_number(v, decimals)), why)
}

/// A text of a table, or a dash saying `why` it is unknown.
fn text_or(value: Option<&str>, why: &str) -> String {
    or_unknown(
        value.filter(|v| !v.trim().is_empty()).map(str::to_string),
        why,
    )
}

const NO_WEATHER_VALUE: &str = "la source météo ne donne pas cette valeur";

/// The week-over-week indicators as table rows, the French way: grouped thousands, decimal
/// commas, signed changes, and a dash with its reason where a value is unknown.
fn evolution_rows(evolution: &cityflow_core::evolution::Evolution) -> Vec<Vec<String>> {
    let Some(i) = &evolution.indicateurs else {
        return Vec::new();
    };
    let band = evolution.tendance_4_semaines.as_ref();
    const NO_VALUE: &str = "le rapport de ce jour ne la connaît pas";
    const NO_REFERENCE: &str = "le rapport de la semaine précédente ne la connaît pas";
    const NO_CHANGE: &str = "il faut les deux valeurs, et une référence non nulle";
    const NO_BAND: &str = "moins de 2 des 4 semaines précédentes la connaissent";
    let arrow = |v: Option<f64>| match v {
        Some(v) if v > 0.0 => "↑ ",
        Some(v) if v < 0.0 => "↓ ",
        Some(_) => "→ ",
        None => "",
    };
    let change = |v: Option<f64>, text: &dyn Fn(f64) -> String| {
        or_unknown(
            v.map(|v| format!("{}{}", arrow(Some(v)), text(v))),
            NO_CHANGE,
        )
    };
    let qualification = |q: Option<cityflow_core::evolution::Qualification>| {
        or_unknown(q.map(|q| q.as_str().to_string()), NO_BAND)
    };
    let count = |v: Option<u64>, why| or_unknown(v.map(|v| fr_number(v as f64, 0)), why);
    let figure = |v: Option<f64>, why| or_unknown(v.map(|v| fr_number(v, 1)), why);
    let pct = |v: f64| format!("{}{}%", fr::signed(v, 1), fr::NNBSP);
    vec![
        vec![
            escape("Total véhicules Paris"),
            count(i.total_vehicules_paris.valeur, NO_VALUE),
            count(i.total_vehicules_paris.reference, NO_REFERENCE),
            change(i.total_vehicules_paris.variation_pct, &pct),
            qualification(
                band.and_then(|b| b.total_vehicules_paris.as_ref())
                    .and_then(|b| b.qualification),
            ),
        ],
        vec![
            escape("Temps perdu total (min)"),
            figure(i.temps_perdu_total_minutes.valeur, NO_VALUE),
            figure(i.temps_perdu_total_minutes.reference, NO_REFERENCE),
            change(i.temps_perdu_total_minutes.variation_pct, &pct),
            qualification(
                band.and_then(|b| b.temps_perdu_total_minutes.as_ref())
                    .and_then(|b| b.qualification),
            ),
        ],
        vec![
            escape("Tronçons saturés"),
            count(i.nombre_troncons_satures.valeur, NO_VALUE),
            count(i.nombre_troncons_satures.reference, NO_REFERENCE),
            change(
                i.nombre_troncons_satures.variation.map(|v| v as f64),
                &|v| fr::signed(v, 0),
            ),
            qualification(
                band.and_then(|b| b.nombre_troncons_satures.as_ref())
                    .and_then(|b| b.qualification),
            ),
        ],
        vec![
            escape("Disponibilité des capteurs (%)"),
            figure(i.taux_disponibilite_capteurs.valeur, NO_VALUE),
            figure(i.taux_disponibilite_capteurs.reference, NO_REFERENCE),
            change(i.taux_disponibilite_capteurs.variation, &|v| {
                format!("{}{}pt", fr::signed(v, 1), fr::NNBSP)
            }),
            qualification(
                band.and_then(|b| b.taux_disponibilite_capteurs.as_ref())
                    .and_then(|b| b.qualification),
            ),
        ],
        vec![
            escape("Total vélos Paris"),
            count(i.total_velos_paris.valeur, NO_VALUE),
            count(i.total_velos_paris.reference, NO_REFERENCE),
            change(i.total_velos_paris.variation_pct, &pct),
            qualification(
                band.and_then(|b| b.total_velos_paris.as_ref())
                    .and_then(|b| b.qualification),
            ),
        ],
    ]
}

/// `/reports/{date}.html`: the whole report.
/// `with_map`: the day has a map, embedded after the top 10 with a caption.
pub fn report_page(stored: &StoredReport, with_map: bool) -> String {
    let r = &stored.report;
    let date = fr::date(r.date);
    let mut body = format!(
        "<h1>Rapport du trafic du {date}</h1><p class=\"muted\">Exporté le {} · \
         <a href=\"/reports/{d}\">JSON</a> · <a href=\"/reports/{d}.csv\">CSV</a></p>{}",
        escape(&fr::datetime_paris(stored.timestamp.0)),
        cards(&r.summary),
        d = r.date
    );

    let top: Vec<(String, f64)> = r
        .top_10_troncons_frequentes
        .iter()
        .map(|a| (a.libelle.clone(), a.debit_journalier_total as f64))
        .collect();
    let zones: Vec<(String, f64)> = r
        .top_10_zones_congestionnees
        .iter()
        .map(|z| (fr::zone(z.label()), z.temps_perdu_total_minutes()))
        .collect();
    body.push_str("<section aria-labelledby=\"top\"><h2 id=\"top\">Tronçons les plus fréquentés</h2><div class=\"charts\">");
    body.push_str(&figure(
        "Top 10 des tronçons (véhicules par jour)",
        bar_chart(
            "top-troncons",
            "Top 10 des tronçons les plus fréquentés",
            &top,
            "véhicules",
            0,
        ),
    ));
    body.push_str(&figure(
        "Zones les plus congestionnées (temps perdu, minutes)",
        bar_chart(
            "top-zones",
            "Zones les plus congestionnées",
            &zones,
            "minutes",
            1,
        ),
    ));
    body.push_str("</div>");
    let rows: Vec<Vec<String>> = r
        .top_10_troncons_frequentes
        .iter()
        .map(|a| {
            vec![
                escape(&a.libelle),
                escape(&a.identifiant_arc),
                escape(&fr_number(a.debit_journalier_total as f64, 0)),
                escape(&fr_number(a.debit_horaire_moyen, 1)),
                opt(a.taux_occupation_moyen, 1, "aucun taux d'occupation mesuré"),
                escape(&a.etat_trafic_dominant),
                escape(&fr::zone(&a.arrondissement)),
            ]
        })
        .collect();
    body.push_str(&table(
        "Top 10 des tronçons",
        &[
            "Tronçon",
            "Arc",
            "Véhicules/jour",
            "Débit horaire moyen",
            "Taux d'occupation (%)",
            "État dominant",
            "Arrondissement",
        ],
        &rows,
        &[2, 3, 4],
    ));
    let zone_rows: Vec<Vec<String>> = r
        .top_10_zones_congestionnees
        .iter()
        .map(|z| {
            vec![
                escape(&fr::zone(z.label())),
                escape(&fr_number(z.temps_perdu_total_minutes(), 1)),
            ]
        })
        .collect();
    body.push_str(&table(
        "Zones les plus congestionnées",
        &["Zone", "Temps perdu (min)"],
        &zone_rows,
        &[1],
    ));
    body.push_str("</section>");

    if with_map {
        let _ = write!(
            body,
            "<section aria-labelledby=\"map\"><h2 id=\"map\">Carte du jour</h2>\
             <figure class=\"map\"><img src=\"/reports/{d}/map.svg\" width=\"1000\" height=\"650\" \
             alt=\"Carte de Paris du {date} : chaque tronçon compté, coloré selon son taux d'occupation \
             moyen ; les 10 tronçons les plus fréquentés numérotés ; chantiers actifs hachurés ; \
             compteurs vélo en disques.\">\
             <figcaption>Taux d'occupation moyen de chaque tronçon le {date} (du jaune, fluide, au \
             violet foncé, saturé ; en gris sans données). Les numéros renvoient au tableau « Top 10 \
             des tronçons » ; les zones hachurées sont les chantiers actifs, les disques orange les \
             compteurs vélo (surface selon les passages). <a href=\"/reports/{d}/map.svg\">Ouvrir la \
             carte</a>.</figcaption></figure></section>",
            d = r.date
        );
    }

    let alerts: Vec<Vec<String>> = r
        .alertes_congestion
        .iter()
        .map(|a| {
            vec![
                escape(&a.arc.libelle),
                text_or(
                    a.severite.map(|s| s.as_str()),
                    "la source ne donne pas de sévérité",
                ),
                text_or(
                    a.debut_congestion
                        .as_deref()
                        .map(|start| {
                            // An RFC 3339 instant reads in Paris time; anything else as given.
                            chrono::DateTime::parse_from_rfc3339(start)
                                .map(fr::datetime_paris)
                                .unwrap_or_else(|_| start.to_string())
                        })
                        .as_deref(),
                    "la source ne donne pas l'heure de début",
                ),
                opt(
                    a.duree_heures.map(|h| h as f64),
                    0,
                    "la source ne donne pas la durée",
                ),
                opt(
                    a.taux_occupation_max.or(a.arc.taux_occupation_moyen),
                    1,
                    "aucun taux d'occupation mesuré",
                ),
            ]
        })
        .collect();
    body.push_str(
        "<section aria-labelledby=\"alerts\"><h2 id=\"alerts\">Alertes de congestion</h2>",
    );
    body.push_str(&table(
        "Alertes de congestion",
        &[
            "Tronçon",
            "Sévérité",
            "Début",
            "Durée (h)",
            "Taux d'occupation (%)",
        ],
        &alerts,
        &[3, 4],
    ));
    body.push_str("</section>");

    let sensors: Vec<Vec<String>> = r
        .capteurs_defaillants
        .iter()
        .map(|s| {
            vec![
                escape(&s.id_compteur),
                escape(s.kind.as_str()),
                text_or(s.raison.as_deref(), "la source ne donne pas la raison"),
                s.heures_manquantes
                    .as_ref()
                    .map(|h| {
                        h.iter()
                            .map(|h| h.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|| unknown("la source ne donne pas les heures")),
            ]
        })
        .collect();
    body.push_str(
        "<section aria-labelledby=\"sensors\"><h2 id=\"sensors\">Capteurs défaillants</h2>",
    );
    body.push_str(&table(
        "Capteurs défaillants",
        &["Capteur", "Type", "Raison", "Heures manquantes"],
        &sensors,
        &[],
    ));
    body.push_str("</section>");

    let works: Vec<Vec<String>> = r
        .chantiers_actifs
        .iter()
        .map(|c| {
            vec![
                escape(&c.identifiant),
                escape(&c.typologie),
                escape(&c.impact),
                or_unknown(
                    c.arrondissement.as_deref().map(fr::zone),
                    "la source ne donne pas l'arrondissement",
                ),
            ]
        })
        .collect();
    body.push_str("<section aria-labelledby=\"works\"><h2 id=\"works\">Chantiers actifs</h2>");
    body.push_str(&table(
        "Chantiers actifs",
        &["Chantier", "Typologie", "Impact", "Arrondissement"],
        &works,
        &[],
    ));
    body.push_str("</section>");

    body.push_str("<section aria-labelledby=\"weather\"><h2 id=\"weather\">Météo</h2>");
    match &r.meteo_impact {
        Some(m) => {
            let rows = vec![vec![
                or_unknown(m.date.map(fr::date), "la source ne date pas la mesure"),
                opt(m.temp_moyenne, 1, NO_WEATHER_VALUE),
                opt(m.temp_min, 1, NO_WEATHER_VALUE),
                opt(m.temp_max, 1, NO_WEATHER_VALUE),
                opt(m.precip_totale, 1, NO_WEATHER_VALUE),
                opt(m.vent_moyen, 1, NO_WEATHER_VALUE),
                text_or(m.conditions.as_deref(), NO_WEATHER_VALUE),
                opt(m.impact_mobilite, 2, NO_WEATHER_VALUE),
            ]];
            body.push_str(&table(
                "Météo du jour et impact estimé",
                &[
                    "Jour",
                    "Temp. moyenne (°C)",
                    "Min (°C)",
                    "Max (°C)",
                    "Précipitations (mm)",
                    "Vent (km/h)",
                    "Conditions",
                    "Impact mobilité",
                ],
                &rows,
                &[1, 2, 3, 4, 5, 7],
            ));
        }
        None => body.push_str("<p class=\"muted\">Pas de données météo pour ce jour.</p>"),
    }
    body.push_str("</section>");

    let evolution = &r.evolution_vs_semaine_precedente;
    body.push_str("<section aria-labelledby=\"evolution\"><h2 id=\"evolution\">Évolution par rapport à la semaine précédente</h2>");
    match evolution.unavailable_reason() {
        Some(why) => {
            let _ = write!(
                body,
                "<p class=\"muted\">Non disponible : {}</p>",
                escape(&why)
            );
        }
        None => {
            if let Some(reference) = evolution.date_reference {
                let _ = write!(body, "<p>Comparé au {}.</p>", fr::date(reference));
            }
            let rows = evolution_rows(evolution);
            body.push_str(&table(
                "Indicateurs comparés à la semaine précédente",
                &[
                    "Indicateur",
                    "Valeur",
                    "Semaine précédente",
                    "Variation",
                    "Sur 4 semaines",
                ],
                &rows,
                &[1, 2, 3],
            ));
        }
    }
    body.push_str("</section>");
    layout(&format!("CityFlow — rapport du {date}"), &body)
}
