//! The HTML pages, in French, rendered on the server: no JavaScript, nothing fetched from
//! elsewhere (styles inline, charts inline SVG). Every string that comes from data goes
//! through [`escape`].

use std::fmt::Write;

use cityflow_core::{StoredReport, Summary};

use crate::charts::{bar_chart, escape, fr_number, line_chart};

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
td.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#555}";

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
    let availability = summary
        .taux_disponibilite_capteurs
        .map(|v| format!("{} %", fr_number(v, 1)))
        .unwrap_or_else(|| "inconnue".to_string());
    let items = [
        (
            "Véhicules comptés",
            fr_number(summary.total_vehicules_paris as f64, 0),
        ),
        (
            "Temps perdu (min)",
            fr_number(summary.temps_perdu_total_minutes, 1),
        ),
        (
            "Tronçons saturés",
            fr_number(summary.nombre_troncons_satures as f64, 0),
        ),
        ("Disponibilité des capteurs", availability),
        (
            "Vélos comptés",
            fr_number(summary.total_velos_paris as f64, 0),
        ),
    ];
    let mut out = String::from("<div class=\"cards\">");
    for (label, value) in items {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"label\">{label}</div><div class=\"value\">{}</div></div>",
            escape(&value)
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
pub fn dashboard(reports: &[StoredReport]) -> String {
    let mut body = String::from("<h1>Tableau de bord du trafic parisien</h1>");
    let Some(latest) = reports.last() else {
        body.push_str("<p>Aucun rapport n'est encore disponible.</p>");
        return layout("CityFlow — tableau de bord", &body);
    };
    let _ = write!(
        body,
        "<section aria-labelledby=\"latest\"><h2 id=\"latest\">Dernier rapport : <a href=\"/reports/{d}.html\">{}</a></h2>{}</section>",
        latest.date.format("%d/%m/%Y"),
        cards(&latest.report.summary),
        d = latest.date
    );
    let series = |f: &dyn Fn(&Summary) -> Option<f64>| -> Vec<(chrono::NaiveDate, Option<f64>)> {
        reports
            .iter()
            .map(|r| (r.date, f(&r.report.summary)))
            .collect()
    };
    let first = reports.first().map(|r| r.date).unwrap_or(latest.date);
    let _ = write!(
        body,
        "<section aria-labelledby=\"trends\"><h2 id=\"trends\">Tendances du {} au {} ({} rapports)</h2><div class=\"charts\">",
        first.format("%d/%m/%Y"),
        latest.date.format("%d/%m/%Y"),
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
            let s = &r.report.summary;
            vec![
                format!(
                    "<a href=\"/reports/{d}.html\">{}</a>",
                    r.date.format("%d/%m/%Y"),
                    d = r.date
                ),
                escape(&fr_number(s.total_vehicules_paris as f64, 0)),
                escape(&fr_number(s.temps_perdu_total_minutes, 1)),
                escape(&fr_number(s.nombre_troncons_satures as f64, 0)),
                format!(
                    "<a href=\"/reports/{d}\">JSON</a> · <a href=\"/reports/{d}.csv\">CSV</a>",
                    d = r.date
                ),
            ]
        })
        .collect();
    body.push_str("<section aria-labelledby=\"dates\"><h2 id=\"dates\">Rapports</h2>");
    body.push_str(&table(
        "Rapports disponibles, du plus récent au plus ancien",
        &[
            "Date",
            "Véhicules",
            "Temps perdu (min)",
            "Tronçons saturés",
            "Données",
        ],
        &rows,
        &[1, 2, 3],
    ));
    body.push_str("</section>");
    layout("CityFlow — tableau de bord", &body)
}

fn opt(value: Option<f64>, decimals: usize) -> String {
    value
        .map(|v| escape(&fr_number(v, decimals)))
        .unwrap_or_default()
}

/// `/reports/{date}.html`: the whole report.
pub fn report_page(stored: &StoredReport) -> String {
    let r = &stored.report;
    let date = r.date.format("%d/%m/%Y").to_string();
    let mut body = format!(
        "<h1>Rapport du trafic du {date}</h1><p class=\"muted\">Exporté le {} · \
         <a href=\"/reports/{d}\">JSON</a> · <a href=\"/reports/{d}.csv\">CSV</a></p>{}",
        escape(&stored.timestamp.to_string()),
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
        .map(|z| (z.label().to_string(), z.temps_perdu_total_minutes()))
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
                opt(a.taux_occupation_moyen, 1),
                escape(&a.etat_trafic_dominant),
                escape(&a.arrondissement),
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
    body.push_str("</section>");

    let alerts: Vec<Vec<String>> = r
        .alertes_congestion
        .iter()
        .map(|a| {
            vec![
                escape(&a.arc.libelle),
                escape(a.severite.map(|s| s.as_str()).unwrap_or("")),
                escape(a.debut_congestion.as_deref().unwrap_or("")),
                a.duree_heures.map(|h| h.to_string()).unwrap_or_default(),
                opt(a.taux_occupation_max.or(a.arc.taux_occupation_moyen), 1),
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
                escape(s.raison.as_deref().unwrap_or("")),
                s.heures_manquantes
                    .as_ref()
                    .map(|h| {
                        h.iter()
                            .map(|h| h.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
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
                escape(c.arrondissement.as_deref().unwrap_or("")),
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
                m.date
                    .map(|d| d.format("%d/%m/%Y").to_string())
                    .unwrap_or_default(),
                opt(m.temp_moyenne, 1),
                opt(m.temp_min, 1),
                opt(m.temp_max, 1),
                opt(m.precip_totale, 1),
                opt(m.vent_moyen, 1),
                escape(m.conditions.as_deref().unwrap_or("")),
                opt(m.impact_mobilite, 2),
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
                let _ = write!(body, "<p>Comparé au {}.</p>", reference.format("%d/%m/%Y"));
            }
            let rows: Vec<Vec<String>> = evolution
                .rows()
                .iter()
                .map(|row| {
                    vec![
                        escape(row.label),
                        escape(&row.valeur),
                        escape(&row.reference),
                        escape(format!("{} {}", row.direction.arrow(), row.variation).trim()),
                        escape(row.qualification.map(|q| q.as_str()).unwrap_or("")),
                    ]
                })
                .collect();
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
                &[1, 2],
            ));
        }
    }
    body.push_str("</section>");
    layout(&format!("CityFlow — rapport du {date}"), &body)
}
