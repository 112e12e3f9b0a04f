//! The pages' French (`fr-FR`) writing: [`cityflow_core::fr`]'s numbers, dates and zones,
//! plus what only HTML needs (unknown values with their reason) and Paris time, which needs
//! the time-zone database.

use chrono::Timelike;
use chrono_tz::Europe::Paris;

pub use cityflow_core::fr::*;

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

/// An unknown value as HTML: a dash, with why it is unknown as its tooltip and, for screen
/// readers, as text.
pub fn unknown(why: &str) -> String {
    let why = escape_markup(why);
    format!(
        "<span class=\"unknown\" title=\"{why}\"><span aria-hidden=\"true\">—</span>\
         <span class=\"sr\">inconnu : {why}</span></span>"
    )
}

/// `value` formatted and escaped, or [`unknown`] with `why`.
pub fn or_unknown(value: Option<String>, why: &str) -> String {
    match value {
        Some(text) => escape_markup(&text),
        None => unknown(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_paris() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-30T11:27:39.541521+00:00").unwrap();
        assert_eq!(datetime_paris(t), "30 novembre 2026 à 12 h 27");
        // Summer time: UTC+2.
        let t = chrono::DateTime::parse_from_rfc3339("2026-07-14T22:05:00Z").unwrap();
        assert_eq!(datetime_paris(t), "15 juillet 2026 à 0 h 05");
    }

    #[test]
    fn unknown_values_say_why() {
        let html = unknown("pas de semaine <précédente>");
        assert!(html.contains("title=\"pas de semaine &lt;précédente&gt;\""));
        assert!(html.contains("aria-hidden=\"true\">—<"));
        assert_eq!(or_unknown(Some("1 <".into()), "x"), "1 &lt;");
    }
}
