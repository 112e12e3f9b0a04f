//! Coordinates, lengths and zones.

/// Mean Earth radius used for lengths, in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Great-circle distance between two (lat, lon) points in degrees, in metres.
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

/// `"48.82639270403309, 2.3922636521497997"` → (lat, lon), when both are plausible.
pub fn parse_geo_point(text: &str) -> Option<(f64, f64)> {
    let (lat, lon) = text.split_once(',')?;
    let lat: f64 = lat.trim().parse().ok()?;
    let lon: f64 = lon.trim().parse().ok()?;
    ((-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && lat.is_finite()
        && lon.is_finite())
    .then_some((lat, lon))
}

/// A polyline or ring: (lat, lon) points in degrees.
pub type Points = Vec<(f64, f64)>;

/// A GeoJSON geometry as the map draws it: its lines (a `LineString` or the parts of a
/// `MultiLineString`) and its polygons (each a list of rings, the outer one first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    pub lines: Vec<Points>,
    pub polygons: Vec<Vec<Points>>,
}

impl Shape {
    /// Every point of the shape.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.lines
            .iter()
            .flatten()
            .chain(self.polygons.iter().flatten().flatten())
            .copied()
    }
}

/// A GeoJSON `LineString`, `MultiLineString`, `Polygon` or `MultiPolygon`, coordinates in
/// (lon, lat) order, as a [`Shape`]; `None` when the text is not such a geometry or a
/// coordinate is impossible. A line needs 2 points, a ring 3.
pub fn parse_shape(json: &[u8]) -> Option<Shape> {
    #[derive(serde::Deserialize)]
    struct Geometry {
        #[serde(rename = "type")]
        kind: String,
        coordinates: serde_json::Value,
    }
    let g: Geometry = serde_json::from_slice(json).ok()?;
    let points = |v: &serde_json::Value, at_least: usize| -> Option<Points> {
        let points: Points = v
            .as_array()?
            .iter()
            .map(|p| {
                let p = p.as_array()?;
                let lon = p.first()?.as_f64()?;
                let lat = p.get(1)?.as_f64()?;
                ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
                    .then_some((lat, lon))
            })
            .collect::<Option<_>>()?;
        (points.len() >= at_least).then_some(points)
    };
    let polygon = |v: &serde_json::Value| -> Option<Vec<Points>> {
        let rings: Vec<Points> = v
            .as_array()?
            .iter()
            .map(|r| points(r, 3))
            .collect::<Option<_>>()?;
        (!rings.is_empty()).then_some(rings)
    };
    let parts = |v: &serde_json::Value| v.as_array().cloned().unwrap_or_default();
    let mut shape = Shape::default();
    match g.kind.as_str() {
        "LineString" => shape.lines.push(points(&g.coordinates, 2)?),
        "MultiLineString" => {
            for part in parts(&g.coordinates) {
                shape.lines.push(points(&part, 2)?);
            }
        }
        "Polygon" => shape.polygons.push(polygon(&g.coordinates)?),
        "MultiPolygon" => {
            for part in parts(&g.coordinates) {
                shape.polygons.push(polygon(&part)?);
            }
        }
        _ => return None,
    }
    (!shape.lines.is_empty() || !shape.polygons.is_empty()).then_some(shape)
}

/// The haversine length of polylines, in metres.
pub fn lines_length_metres(lines: &[Points]) -> f64 {
    lines
        .iter()
        .map(|line| {
            line.windows(2)
                .map(|w| haversine_m(w[0], w[1]))
                .sum::<f64>()
        })
        .sum()
}

/// The haversine length of a GeoJSON LineString (or MultiLineString), coordinates in
/// (lon, lat) order; `None` when the text is not such a geometry.
pub fn linestring_length_metres(json: &[u8]) -> Option<f64> {
    parse_shape(json)
        .filter(|s| s.polygons.is_empty())
        .map(|s| lines_length_metres(&s.lines))
}

/// The zone of an arc whose coordinates are unknown.
pub const ZONE_NO_COORDINATES: &str = "Sans coordonnées";
/// The zone of an arc farther than [`MAX_ZONE_DISTANCE_M`] from every arrondissement centroid.
pub const ZONE_OUTSIDE: &str = "Hors Paris";
/// Beyond this distance from the nearest arrondissement centroid, an arc is outside Paris.
/// The farthest points of Paris from their arrondissement's centroid (the woods of Boulogne
/// and Vincennes) are about 3.5 km away.
pub const MAX_ZONE_DISTANCE_M: f64 = 4_000.0;

/// Centroids of the 20 arrondissements (lat, lon), from Paris open data (`arrondissements`,
/// field `geom_x_y`).
pub const ARRONDISSEMENT_CENTROIDS: [(&str, f64, f64); 20] = [
    ("75001", 48.862_562_7, 2.336_444_6),
    ("75002", 48.868_279_2, 2.342_802_5),
    ("75003", 48.862_872_4, 2.360_001_0),
    ("75004", 48.854_341_4, 2.357_629_6),
    ("75005", 48.844_443_2, 2.350_714_6),
    ("75006", 48.849_130_4, 2.332_898_0),
    ("75007", 48.856_174_4, 2.312_187_7),
    ("75008", 48.872_720_8, 2.312_539_8),
    ("75009", 48.877_163_5, 2.337_457_5),
    ("75010", 48.876_130_0, 2.360_728_5),
    ("75011", 48.859_059_2, 2.380_049_4),
    ("75012", 48.834_974_4, 2.421_324_9),
    ("75013", 48.828_388_0, 2.362_272_4),
    ("75014", 48.829_244_5, 2.326_574_0),
    ("75015", 48.840_085_4, 2.292_825_8),
    ("75016", 48.860_392_1, 2.261_970_8),
    ("75017", 48.887_326_5, 2.306_777_0),
    ("75018", 48.892_569_3, 2.348_160_5),
    ("75019", 48.887_076_0, 2.384_822_0),
    ("75020", 48.863_460_6, 2.401_188_1),
];

/// The zone of a point: the nearest arrondissement centroid, or `Hors Paris` beyond
/// [`MAX_ZONE_DISTANCE_M`]; `Sans coordonnées` without a point.
pub fn zone_of(point: Option<(f64, f64)>) -> &'static str {
    let Some(p) = point else {
        return ZONE_NO_COORDINATES;
    };
    let (name, distance) = ARRONDISSEMENT_CENTROIDS
        .iter()
        .map(|(name, lat, lon)| (*name, haversine_m(p, (*lat, *lon))))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("20 centroids");
    if distance > MAX_ZONE_DISTANCE_M {
        ZONE_OUTSIDE
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_of_a_known_distance() {
        // One degree of latitude is about 111.2 km on this sphere.
        let d = haversine_m((48.0, 2.0), (49.0, 2.0));
        assert!((d - 111_194.9).abs() < 1.0, "{d}");
    }

    #[test]
    fn linestring_lengths() {
        let json = br#"{"coordinates": [[2.392472238153124, 48.82564016646078], [2.392089926647914, 48.82636848688473]], "type": "LineString"}"#;
        let l = linestring_length_metres(json).unwrap();
        assert!((l - 86.0).abs() < 1.0, "{l}");
        assert_eq!(
            linestring_length_metres(br#"{"type": "Point", "coordinates": [2, 48]}"#),
            None
        );
        assert_eq!(
            linestring_length_metres(br#"{"type": "LineString", "coordinates": [[2, 48]]}"#),
            None
        );
        assert_eq!(linestring_length_metres(b"not json"), None);
        assert_eq!(
            linestring_length_metres(
                br#"{"type": "LineString", "coordinates": [[2, 95], [2, 48]]}"#
            ),
            None
        );
    }

    #[test]
    fn shapes() {
        let line = parse_shape(br#"{"type": "MultiLineString", "coordinates": [[[2.1, 48.1], [2.2, 48.2]], [[2.3, 48.3], [2.4, 48.4], [2.5, 48.5]]]}"#).unwrap();
        assert_eq!(line.lines.len(), 2);
        assert_eq!(line.lines[1][2], (48.5, 2.5), "(lat, lon)");
        let poly = parse_shape(br#"{"type": "Polygon", "coordinates": [[[2.35, 48.84], [2.36, 48.84], [2.36, 48.85], [2.35, 48.84]]]}"#).unwrap();
        assert_eq!(
            (
                poly.lines.len(),
                poly.polygons.len(),
                poly.polygons[0][0].len()
            ),
            (0, 1, 4)
        );
        assert_eq!(poly.points().count(), 4);
        assert!(
            parse_shape(br#"{"type": "Polygon", "coordinates": [[[2.35, 48.84], [2.36, 48.84]]]}"#)
                .is_none(),
            "a ring needs 3 points"
        );
        assert!(parse_shape(br#"{"type": "MultiPolygon", "coordinates": []}"#).is_none());
        assert_eq!(linestring_length_metres(br#"{"type": "Polygon", "coordinates": [[[2.35, 48.84], [2.36, 48.84], [2.36, 48.85]]]}"#), None);
    }

    #[test]
    fn zones() {
        assert_eq!(zone_of(parse_geo_point("48.8606, 2.3376")), "75001"); // the Louvre
        assert_eq!(zone_of(parse_geo_point("48.8462, 2.2519")), "75016"); // near Porte d'Auteuil
        assert_eq!(zone_of(parse_geo_point("48.8924, 2.2369")), ZONE_OUTSIDE); // La Défense
        assert_eq!(zone_of(None), ZONE_NO_COORDINATES);
        assert_eq!(parse_geo_point("nope"), None);
        assert_eq!(parse_geo_point("91, 2"), None);
    }
}
