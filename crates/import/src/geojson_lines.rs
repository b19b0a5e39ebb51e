//! Line numbers of GeoJSON features: a scan of the raw text that follows
//! strings and nesting, and notes the line where each object directly inside
//! the top-level `features` array opens.

/// 1-based line of each feature of a FeatureCollection, in order.
pub(crate) fn feature_lines(bytes: &[u8]) -> Vec<u64> {
    let mut lines = Vec::new();
    let mut line = 1u64;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // The last string seen directly in the top-level object, and whether a
    // `:` followed it (then it was a key).
    let mut last_string = Vec::new();
    let mut key = Vec::new();
    let mut string_start = 0usize;
    let mut features_depth: Option<usize> = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
                if depth == 1 {
                    last_string = bytes[string_start..i].to_vec();
                }
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                string_start = i + 1;
            }
            b':' if depth == 1 => key = std::mem::take(&mut last_string),
            b'{' | b'[' => {
                if b == b'{' && features_depth == Some(depth) {
                    lines.push(line);
                }
                if b == b'[' && depth == 1 && key == b"features" {
                    features_depth = Some(depth + 1);
                }
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if b == b']' && features_depth == Some(depth + 1) {
                    features_depth = None;
                }
            }
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::feature_lines;

    #[test]
    fn finds_the_line_of_each_feature_not_of_nested_objects() {
        let text = br#"{"type": "FeatureCollection",
"crs": { "type": "name", "properties": { "name": "x" } },
"features": [
{ "type": "Feature", "properties": { "id": 1, "note": "a { b\n" }, "geometry": { "type": "Point", "coordinates": [1, 2] } },
{ "type": "Feature",
  "properties": { "id": 2 },
  "geometry": null }
]}"#;
        assert_eq!(feature_lines(text), vec![4, 5]);
    }
}
