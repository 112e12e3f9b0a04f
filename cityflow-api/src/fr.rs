//! How the pages write numbers, dates and places for a French reader (`fr-FR`): thousands
//! separated by a narrow no-break space, a decimal comma, `12,5 %`, month names, Paris time,
//! `Paris 13e`. Written here rather than with an ICU crate: the pages need these few rules,
//! and ICU's data would be most of the API's binary.

use chrono::{Datelike, NaiveDate, Timelike};
use chrono_tz::Europe::Paris;

use crate::charts::escape;

/// The narrow no-break space (U+202F) that `fr-FR` puts between thousands and before `%`.
pub const NNBSP: char = '\u{202F}';

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A number the French way: `1 234 567,8`; `—` for a value that is not finite.
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "—".to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(NNBSP);
        }
        grouped.push(digit);
    }
    // "−0,0" would be a sign on nothing.
    let sign = if value < 0.0 && !text.trim_matches(['0', '.']).is_empty() {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

/// A change, always signed: `+2,5`, `−3`, `0`.
pub fn signed(value: f64, decimals: usize) -> String {
    let text = number(value, decimals);
    if text.starts_with('−') || text == "—" || text.trim_matches(['0', ',']).is_empty() {
        text
    } else {
        format!("+{text}")
    }
}

/// A percentage: `12,5 %`.
pub fn percent(value: f64, decimals: usize) -> String {
    format!("{}{NNBSP}%", number(value, decimals))
}

/// A date: `10 mars 2026`, `1er mars 2026`.
pub fn date(day: NaiveDate) -> String {
    let d = day.day();
    let month = MONTHS[day.month0() as usize];
    if d == 1 {
        format!("1er {month} {}", day.year())
    } else {
        format!("{d} {month} {}", day.year())
    }
}

/// An instant, in Paris time: `30 novembre 2026 à 12 h 27`.
pub fn datetime_paris(instant: chrono::DateTime<chrono::FixedOffset>) -> String {
    let local = instant.with_timezone(&Paris);
    format!(
        "{} à {} h {:02}",
        date(local.date_naive()),
        local.hour(),
        local.minute()
    )
}

/// A zone as a Parisian names it: the postal code `75013` reads `Paris 13e`, `75001`
/// `Paris 1er`, `75116` (the 16th's second code) `Paris 16e`. Anything else (`Hors Paris`,
/// `Sans coordonnées`, an old report's free text) is shown as it is.
pub fn zone(label: &str) -> String {
    let digits = label.trim();
    let arrondissement = digits
        .strip_prefix("75")
        .filter(|rest| rest.len() == 3 && rest.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|rest| rest.parse::<u32>().ok())
        .map(|n| if n == 116 { 16 } else { n })
        .filter(|n| (1..=20).contains(n));
    match arrondissement {
        Some(1) => "Paris 1er".to_string(),
        Some(n) => format!("Paris {n}e"),
        None => label.to_string(),
    }
}

/// An unknown value as HTML: a dash, with why it is unknown as its tooltip and, for screen
/// readers, as text.
pub fn unknown(why: &str) -> String {
    let why = escape(why);
    format!(
        "<span class=\"unknown\" title=\"{why}\"><span aria-hidden=\"true\">—</span>\
         <span class=\"sr\">inconnu : {why}</span></span>"
    )
}

/// `value` formatted and escaped, or [`unknown`] with `why`.
pub fn or_unknown(value: Option<String>, why: &str) -> String {
    match value {
        Some(text) => escape(&text),
        None => unknown(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(1234567.0, 0), "1\u{202F}234\u{202F}567");
        assert_eq!(number(98.456, 1), "98,5");
        assert_eq!(number(-12.0, 0), "−12");
        assert_eq!(number(-0.01, 1), "0,0");
        assert_eq!(number(f64::NAN, 1), "—");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(1000.0, 0), "1\u{202F}000");
        assert_eq!(percent(12.5, 1), "12,5\u{202F}%");
        assert_eq!(signed(2.5, 1), "+2,5");
        assert_eq!(signed(-3.0, 0), "−3");
        assert_eq!(signed(0.0, 0), "0");
        assert_eq!(signed(12345.0, 0), "+12\u{202F}345");
    }

    #[test]
    fn dates_and_times() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(date(d("2026-03-10")), "10 mars 2026");
        assert_eq!(date(d("2026-08-01")), "1er août 2026");
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-30T11:27:39.541521+00:00").unwrap();
        assert_eq!(datetime_paris(t), "30 novembre 2026 à 12 h 27");
        // Summer time: UTC+2.
        let t = chrono::DateTime::parse_from_rfc3339("2026-07-14T22:05:00Z").unwrap();
        assert_eq!(datetime_paris(t), "15 juillet 2026 à 0 h 05");
    }

    #[test]
    fn zones() {
        assert_eq!(zone("75013"), "Paris 13e");
        assert_eq!(zone("75001"), "Paris 1er");
        assert_eq!(zone("75020"), "Paris 20e");
        assert_eq!(zone("75116"), "Paris 16e");
        assert_eq!(zone("75021"), "75021");
        assert_eq!(zone("Hors Paris"), "Hors Paris");
        assert_eq!(zone("7501"), "7501");
        assert_eq!(zone("93100"), "93100");
    }

    #[test]
    fn unknown_values_say_why() {
        let html = unknown("pas de semaine <précédente>");
        assert!(html.contains("title=\"pas de semaine &lt;précédente&gt;\""));
        assert!(html.contains("aria-hidden=\"true\">—<"));
        assert_eq!(or_unknown(Some("1 <".into()), "x"), "1 &lt;");
    }
}
