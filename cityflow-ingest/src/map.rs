//! The map of the day: where Paris was congested. A self-contained SVG (no tiles, no CDN, no
//! script) drawn from the raw data's geometries:
//!
//! - every arc with a `geo_shape`, as its polyline, coloured by its day's mean occupancy rate
//!   on viridis (perceptually uniform, readable in grey and by most colour-blind readers),
//!   grey without data;
//! - the day's top-10 arcs outlined and numbered as in the report's table;
//! - the day's active roadworks as hatched polygons;
//! - the bike counters as dots whose area grows with their day's count.
//!
//! The projection is equirectangular, longitudes scaled by the cosine of the middle latitude:
//! at the scale of Paris (10 km) its distortion is below a pixel. Coordinates are rounded to
//! the pixel and written as relative moves, so that the 3,348 arcs of the network stay small.

use std::fmt::Write;

use chrono::NaiveDate;
use cityflow_core::fr::{self, escape_markup as escape};

use crate::geo::{Points, Shape};

/// The map's content type.
pub const MAP_CONTENT_TYPE: &str = "image/svg+xml";

/// One arc of the network, as drawn.
#[derive(Debug, Clone, Copy)]
pub struct MapArc<'a> {
    pub id: &'a str,
    pub libelle: &'a str,
    /// Its polylines, (lat, lon); an arc without any is not drawn.
    pub lines: &'a [Points],
    /// Its mean occupancy rate on the day (%), `None` without data.
    pub occupancy: Option<f64>,
}

/// An active roadwork with a shape.
#[derive(Debug, Clone, Copy)]
pub struct MapRoadwork<'a> {
    pub id: &'a str,
    pub shape: &'a Shape,
}

/// A bike counter with coordinates and its day's count.
#[derive(Debug, Clone, Copy)]
pub struct MapCounter<'a> {
    pub name: &'a str,
    pub point: (f64, f64),
    pub count: u64,
}

/// Everything the map of a day shows.
#[derive(Debug, Clone, Default)]
pub struct DayMap<'a> {
    pub date: Option<NaiveDate>,
    pub arcs: Vec<MapArc<'a>>,
    /// The top-10 arcs' ids, in the report's order (number 1 first).
    pub top: Vec<&'a str>,
    pub roadworks: Vec<MapRoadwork<'a>>,
    pub counters: Vec<MapCounter<'a>>,
    /// What the report was built from (`built_from.newest_modified_ms`), written on the map
    /// so that a reader can tell whether a map and a report belong together.
    pub built_from_ms: Option<i64>,
}

/// The occupancy classes' upper bounds (%); the last class is open.
const CLASS_BOUNDS: [f64; 7] = [5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0];
/// Viridis at 8 evenly spaced points, from high occupancy (dark) to low (light), so that
/// the congested arcs are the ones that stand out on the light background.
const CLASS_COLOURS: [&str; 8] = [
    "#fde725", "#a0da39", "#4ac16d", "#1fa187", "#277f8e", "#365c8d", "#46327e", "#440154",
];
const NO_DATA_COLOUR: &str = "#b8b8b8";

/// The class of an occupancy rate.
fn class_of(occupancy: f64) -> usize {
    CLASS_BOUNDS
        .iter()
        .position(|bound| occupancy < *bound)
        .unwrap_or(CLASS_BOUNDS.len())
}

/// Paris inside the périphérique and both woods, (lat, lon): the frame is at least this, so
/// that maps of different days and networks line up.
const PARIS_SOUTH_WEST: (f64, f64) = (48.8155, 2.2241);
const PARIS_NORTH_EAST: (f64, f64) = (48.9022, 2.4699);

const MAP_WIDTH: f64 = 1000.0;
const MARGIN: f64 = 12.0;
const LEGEND_HEIGHT: f64 = 96.0;

/// Equirectangular projection onto the map's pixels.
struct Projection {
    south: f64,
    north: f64,
    west: f64,
    scale: f64,
    cos_lat: f64,
}

impl Projection {
    fn covering(points: impl Iterator<Item = (f64, f64)>) -> Self {
        let (mut south, mut west) = PARIS_SOUTH_WEST;
        let (mut north, mut east) = PARIS_NORTH_EAST;
        for (lat, lon) in points {
            south = south.min(lat);
            north = north.max(lat);
            west = west.min(lon);
            east = east.max(lon);
        }
        let cos_lat = ((south + north) / 2.0).to_radians().cos();
        let scale = (MAP_WIDTH - 2.0 * MARGIN) / ((east - west) * cos_lat);
        Projection {
            south,
            north,
            west,
            scale,
            cos_lat,
        }
    }

    /// The pixel of a point, rounded.
    fn pixel(&self, (lat, lon): (f64, f64)) -> (i64, i64) {
        (
            (MARGIN + (lon - self.west) * self.cos_lat * self.scale).round() as i64,
            (MARGIN + (self.north - lat) * self.scale).round() as i64,
        )
    }

    fn height(&self) -> f64 {
        ((self.north - self.south) * self.scale + 2.0 * MARGIN).round()
    }
}

/// `M x y l dx dy …` for each polyline, points rounded to the pixel, repeated pixels
/// dropped; a polyline that stays on one pixel is kept as a dot (`l0 0`). `close` ends
/// each with `z` (rings).
fn path_data(out: &mut String, projection: &Projection, lines: &[Points], close: bool) {
    for line in lines {
        let mut pixels = line.iter().map(|p| projection.pixel(*p));
        let Some(start) = pixels.next() else {
            continue;
        };
        out.push('M');
        push_int(out, start.0);
        out.push(' ');
        push_int(out, start.1);
        let (mut at, mut moved) = (start, false);
        for p in pixels {
            if p != at {
                let (dx, dy) = (p.0 - at.0, p.1 - at.1);
                out.push(if moved { ' ' } else { 'l' });
                push_int(out, dx);
                // A negative number separates itself; a positive one needs a space.
                if dy >= 0 {
                    out.push(' ');
                }
                push_int(out, dy);
                at = p;
                moved = true;
            }
        }
        if !moved {
            out.push_str("l0 0");
        }
        if close {
            out.push('z');
        }
    }
}

/// Appends `n` in decimal: the map writes some 20,000 of them, and `write!` costs more than
/// the rest of the drawing.
fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

/// The point halfway along the first polyline of `lines` (by vertices): where an arc's
/// number goes.
fn middle_of(lines: &[Points]) -> Option<(f64, f64)> {
    let line = lines.first()?;
    let (a, b) = (line[(line.len() - 1) / 2], line[line.len() / 2]);
    Some(((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0))
}

impl DayMap<'_> {
    /// How many arcs the map draws: those with a geometry.
    pub fn drawn_arcs(&self) -> usize {
        self.arcs.iter().filter(|a| !a.lines.is_empty()).count()
    }

    /// The SVG document.
    pub fn render(&self) -> String {
        let projection = Projection::covering(
            self.arcs
                .iter()
                .flat_map(|a| a.lines.iter().flatten().copied()),
        );
        let map_height = projection.height();
        let height = map_height + LEGEND_HEIGHT;
        let drawn = self.drawn_arcs();
        let with_data = self
            .arcs
            .iter()
            .filter(|a| !a.lines.is_empty() && a.occupancy.is_some())
            .count();
        let day = self.date.map(fr::date).unwrap_or_default();
        let mut out = String::with_capacity(64 + 48 * self.arcs.len());
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {MAP_WIDTH} {height}\" \
             width=\"{MAP_WIDTH}\" height=\"{height}\" role=\"img\" aria-labelledby=\"map-title map-desc\"{}>",
            self.built_from_ms
                .map(|ms| format!(" data-built-from-ms=\"{ms}\""))
                .unwrap_or_default()
        );
        let _ = write!(
            out,
            "<title id=\"map-title\">Carte du trafic routier à Paris{}{}</title>\
             <desc id=\"map-desc\">{drawn} tronçons dessinés, colorés selon leur taux d'occupation \
             moyen du jour ({} avec des données, les autres en gris) ; les 10 tronçons les plus \
             fréquentés sont cerclés de noir et numérotés comme dans le tableau du rapport ; \
             {} chantiers actifs hachurés ; {} compteurs vélo, la surface du disque selon les \
             passages du jour.</desc>",
            if day.is_empty() { "" } else { " le " },
            escape(&day),
            with_data,
            self.roadworks.len(),
            self.counters.len(),
        );
        out.push_str(
            "<defs><pattern id=\"works\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
             patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fbe3d6\"/>\
             <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c2410c\" stroke-width=\"2\"/></pattern></defs><style>",
        );
        out.push_str(
            "path{fill:none;stroke-linecap:round;stroke-linejoin:round}\
             .arc{stroke-width:2.5}.hl{stroke-width:3.5}.top{stroke:#000;stroke-width:7}\
             .works{fill:url(#works);stroke:#c2410c;stroke-width:1}\
             .works-line{stroke:#c2410c;stroke-width:3;stroke-dasharray:4 3}\
             .bike{fill:#d95f02;fill-opacity:.55;stroke:#7a3300;stroke-width:.8}\
             .num{fill:#fff;stroke:#000;stroke-width:1.5}.lead{stroke:#000;stroke-width:1}.num-text{font:bold 11px sans-serif;text-anchor:middle}\
             .legend{font:12px sans-serif;fill:#1a1a1a}",
        );
        for (i, colour) in CLASS_COLOURS.iter().enumerate() {
            let _ = write!(out, ".o{i}{{stroke:{colour}}}");
        }
        let _ = write!(out, ".nd{{stroke:{NO_DATA_COLOUR}}}</style>");
        let _ = write!(
            out,
            "<rect width=\"{MAP_WIDTH}\" height=\"{map_height}\" fill=\"#f4f4f1\"/>"
        );

        // Roadworks under the arcs, so that the arcs stay readable across them.
        out.push_str("<g id=\"roadworks\">");
        for work in &self.roadworks {
            for polygon in &work.shape.polygons {
                out.push_str("<path class=\"works\" fill-rule=\"evenodd\" d=\"");
                path_data(&mut out, &projection, polygon, true);
                let _ = write!(out, "\"><title>Chantier {}</title></path>", escape(work.id));
            }
            if !work.shape.lines.is_empty() {
                out.push_str("<path class=\"works-line\" d=\"");
                path_data(&mut out, &projection, &work.shape.lines, false);
                let _ = write!(out, "\"><title>Chantier {}</title></path>", escape(work.id));
            }
        }
        out.push_str("</g><g id=\"arcs\">");
        for arc in self.arcs.iter().filter(|a| !a.lines.is_empty()) {
            let class = match arc.occupancy {
                Some(o) => format!("o{}", class_of(o)),
                None => "nd".to_string(),
            };
            let _ = write!(out, "<path class=\"arc {class}\" d=\"");
            path_data(&mut out, &projection, arc.lines, false);
            out.push_str("\"/>");
        }
        out.push_str("</g><g id=\"top\">");
        let top: Vec<(usize, &MapArc)> = self
            .top
            .iter()
            .enumerate()
            .filter_map(|(rank, id)| {
                self.arcs
                    .iter()
                    .find(|a| a.id == *id && !a.lines.is_empty())
                    .map(|a| (rank + 1, a))
            })
            .collect();
        for (rank, arc) in &top {
            let class = match arc.occupancy {
                Some(o) => format!("o{}", class_of(o)),
                None => "nd".to_string(),
            };
            let mut d = String::new();
            path_data(&mut d, &projection, arc.lines, false);
            let occupancy = arc
                .occupancy
                .map(|o| format!(", occupation moyenne {}", fr::percent(o, 1)))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<g><title>{rank}. {}{occupancy}</title><path class=\"top\" d=\"{d}\"/>\
                 <path class=\"hl {class}\" d=\"{d}\"/></g>",
                escape(arc.libelle)
            );
        }
        // Numbers over everything but the legend, last drawn so that they stay visible.
        for (rank, arc) in &top {
            if let Some(p) = middle_of(arc.lines) {
                // Beside the arc, not on it: a short arc would vanish under its number.
                let (x, y) = projection.pixel(p);
                let (nx, ny) = (x + 10, y - 12);
                let _ = write!(
                    out,
                    "<path class=\"lead\" d=\"M{x} {y}L{nx} {ny}\"/>\
                     <circle class=\"num\" cx=\"{nx}\" cy=\"{ny}\" r=\"9\"/>\
                     <text class=\"num-text\" x=\"{nx}\" y=\"{}\">{rank}</text>",
                    ny + 4
                );
            }
        }
        out.push_str("</g><g id=\"bikes\">");
        let most = self.counters.iter().map(|c| c.count).max().unwrap_or(0);
        for counter in &self.counters {
            let (x, y) = projection.pixel(counter.point);
            // Area proportional to the count: radius ∝ √count, from 2 to 10 pixels.
            let r = if most > 0 {
                2.0 + 8.0 * (counter.count as f64 / most as f64).sqrt()
            } else {
                2.0
            };
            let _ = write!(
                out,
                "<circle class=\"bike\" cx=\"{x}\" cy=\"{y}\" r=\"{r:.1}\"><title>{} : {} passages</title></circle>",
                escape(counter.name),
                fr::number(counter.count as f64, 0)
            );
        }
        out.push_str("</g>");
        self.legend(&mut out, map_height);
        out.push_str("</svg>\n");
        out
    }

    fn legend(&self, out: &mut String, top: f64) {
        let _ = write!(
            out,
            "<g class=\"legend\" id=\"legend\" transform=\"translate({MARGIN} {})\">\
             <text x=\"0\" y=\"0\">Taux d'occupation moyen du jour</text>",
            top + 20.0
        );
        let swatch = 78.0;
        let mut lower = 0.0;
        for (i, colour) in CLASS_COLOURS.iter().enumerate() {
            let x = i as f64 * swatch;
            let label = match CLASS_BOUNDS.get(i) {
                Some(upper) => format!("{}–{}{}%", lower, upper, fr::NNBSP),
                None => format!("≥ {lower}{}%", fr::NNBSP),
            };
            if let Some(upper) = CLASS_BOUNDS.get(i) {
                lower = *upper;
            }
            let _ = write!(
                out,
                "<rect x=\"{x}\" y=\"8\" width=\"{}\" height=\"12\" fill=\"{colour}\"/>\
                 <text x=\"{x}\" y=\"36\">{label}</text>",
                swatch - 4.0
            );
        }
        let x = CLASS_COLOURS.len() as f64 * swatch + 10.0;
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"8\" width=\"40\" height=\"12\" fill=\"{NO_DATA_COLOUR}\"/>\
             <text x=\"{x}\" y=\"36\">sans données</text>\
             <circle class=\"num\" cx=\"9\" cy=\"60\" r=\"9\"/><text class=\"num-text\" x=\"9\" y=\"64\">1</text>\
             <text x=\"24\" y=\"64\">rang du tronçon dans le top 10</text>\
             <rect x=\"260\" y=\"52\" width=\"24\" height=\"14\" class=\"works\"/>\
             <text x=\"290\" y=\"64\">chantier actif</text>\
             <circle class=\"bike\" cx=\"420\" cy=\"59\" r=\"6\"/>\
             <text x=\"432\" y=\"64\">compteur vélo (surface selon les passages)</text></g>"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of(0.0), 0);
        assert_eq!(class_of(4.99), 0);
        assert_eq!(class_of(5.0), 1);
        assert_eq!(class_of(39.9), 6);
        assert_eq!(class_of(40.0), 7);
        assert_eq!(class_of(100.0), 7);
    }

    #[test]
    fn integers() {
        for n in [0i64, 7, -7, 10, 12_345, -1_000_000, i64::MIN + 1, i64::MAX] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn paths_are_relative_and_rounded() {
        let p = Projection::covering(std::iter::empty());
        let mut d = String::new();
        let a = (48.86, 2.33);
        let b = (48.861, 2.332);
        path_data(&mut d, &p, &[vec![a, a, b]], false);
        let (x, y) = p.pixel(a);
        let (x2, y2) = p.pixel(b);
        assert_eq!(
            d,
            format!("M{x} {y}l{} {}", x2 - x, y2 - y).replace(" -", "-")
        );
        let mut dot = String::new();
        path_data(&mut dot, &p, &[vec![a, (48.86000001, 2.33000001)]], false);
        assert!(dot.ends_with("l0 0"), "{dot}");
    }

    #[test]
    fn the_frame_holds_paris_and_every_arc() {
        let p = Projection::covering([(48.95, 2.2)].into_iter());
        assert_eq!(p.pixel((48.95, 2.2)), (MARGIN as i64, MARGIN as i64));
        let (x, y) = p.pixel(PARIS_SOUTH_WEST);
        assert!(x >= MARGIN as i64 && (y as f64) <= p.height() - MARGIN + 1.0);
        let (x, _) = p.pixel(PARIS_NORTH_EAST);
        assert_eq!(x, (MAP_WIDTH - MARGIN) as i64);
    }
}
