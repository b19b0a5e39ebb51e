//! Administrative boundaries as GeoJSON with P-codes (OCHA COD-AB style).
//! The admin level comes from the property names: `admin1Pcod`, `admin1Pcode`,
//! `ADM1_PCODE`, `adm2_pcode` ... the deepest level with a value is the
//! feature's own; the level above gives the parent.

use crate::error::ImportError;
use serde_json::{Map, Value};
use vitalcore_framework::Area;

/// A property name split into (level, rest): `ADM1_PCODE` -> (1, "pcode"),
/// `admin2Name` -> (2, "name"), `admin0Pcod` -> (0, "pcod").
fn split_admin_key(key: &str) -> Option<(u8, String)> {
    let k: String = key.to_ascii_lowercase().chars().filter(|c| *c != '_').collect();
    let rest = k.strip_prefix("admin").or_else(|| k.strip_prefix("adm"))?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits != 1 {
        return None;
    }
    let level = rest[..1].parse().ok()?;
    Some((level, rest[1..].to_string()))
}

fn is_pcode_suffix(rest: &str) -> bool {
    matches!(rest, "pcod" | "pcode" | "pcodes")
}

/// Whether the text holds a P-code property name (for format detection).
pub(crate) fn mentions_pcode_property(text: &str) -> bool {
    text.split('"')
        .skip(1)
        .step_by(2)
        .take(20_000)
        .any(|s| s.len() <= 20 && split_admin_key(s).is_some_and(|(_, rest)| is_pcode_suffix(&rest)))
}

/// Name keys tried in order for a level's name.
const NAME_SUFFIXES: [&str; 8] = ["name", "nameen", "en", "namefr", "fr", "refn", "nam", "nameref"];

struct Keys<'a> {
    pcode: [Option<&'a str>; 5],
    name: [Option<&'a str>; 5],
}

fn keys_of(props: &Map<String, Value>) -> Keys<'_> {
    let mut keys = Keys { pcode: [None; 5], name: [None; 5] };
    let mut name_rank = [usize::MAX; 5];
    for key in props.keys() {
        let Some((level, rest)) = split_admin_key(key) else {
            continue;
        };
        let l = level as usize;
        if l >= 5 {
            continue;
        }
        if is_pcode_suffix(&rest) {
            keys.pcode[l] = Some(key);
        } else if let Some(rank) = NAME_SUFFIXES.iter().position(|s| *s == rest)
            && rank < name_rank[l]
        {
            name_rank[l] = rank;
            keys.name[l] = Some(key);
        }
    }
    keys
}

fn text_of(props: &Map<String, Value>, key: Option<&str>) -> Option<String> {
    match props.get(key?)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads every feature as an [`Area`]; geometry kept as GeoJSON text.
pub(crate) fn read(name: &str, bytes: &[u8]) -> Result<Vec<Area>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ImportError::Malformed {
        file: name.to_string(),
        line: e.line() as u64,
        problem: format!("not valid JSON: {e}"),
    })?;
    let features = value.get("features").and_then(Value::as_array).ok_or_else(|| ImportError::MissingColumns {
        file: name.to_string(),
        problem: "no `features` list: boundaries must be a GeoJSON FeatureCollection".into(),
    })?;
    let lines = crate::geojson_lines::feature_lines(bytes);
    let mut areas = Vec::with_capacity(features.len());
    for (i, feature) in features.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        let bad = |problem: String| ImportError::Malformed { file: name.to_string(), line, problem };
        let empty = Map::new();
        let props = feature.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let keys = keys_of(props);
        let level = (1..5).rev().find(|&l| text_of(props, keys.pcode[l]).is_some()).ok_or_else(|| {
            bad(format!("feature {} has no admin P-code property (admin1Pcode, ADM1_PCODE, adm2_pcode ...)", i + 1))
        })?;
        let pcode = text_of(props, keys.pcode[level]).unwrap_or_default();
        let geometry = feature.get("geometry").filter(|g| !g.is_null());
        if let Some(g) = geometry {
            let kind = g.get("type").and_then(Value::as_str).unwrap_or("");
            if kind != "Polygon" && kind != "MultiPolygon" {
                return Err(bad(format!(
                    "area {pcode} has a {kind} geometry; boundaries must be Polygon or MultiPolygon"
                )));
            }
            vitalcore_spatial::parse_geometry(&g.to_string()).map_err(|p| bad(format!("area {pcode}: {p}")))?;
        }
        areas.push(Area {
            name: text_of(props, keys.name[level]).unwrap_or_else(|| pcode.clone()),
            level: level as u8,
            parent_pcode: text_of(props, keys.pcode[level - 1]),
            country: text_of(props, keys.name[0]),
            geometry: geometry.map(Value::to_string),
            pcode,
        });
    }
    Ok(areas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_keys_of_every_cod_spelling() {
        assert_eq!(split_admin_key("admin1Pcod"), Some((1, "pcod".into())));
        assert_eq!(split_admin_key("ADM2_PCODE"), Some((2, "pcode".into())));
        assert_eq!(split_admin_key("adm1_en"), Some((1, "en".into())));
        assert_eq!(split_admin_key("admin0Name"), Some((0, "name".into())));
        assert_eq!(split_admin_key("administration"), None);
        assert!(mentions_pcode_property(r#"{"properties": {"ADM1_EN": "x", "ADM1_PCODE": "CF11"}}"#));
        assert!(!mentions_pcode_property(r#"{"properties": {"name": "x"}}"#));
    }
}
