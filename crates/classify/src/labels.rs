//! The framework's label ids (UNDP 1994 dimensions; NATO 2022 / UN protection themes).

/// The seven human-security dimensions (UNDP Human Development Report 1994).
pub const DIMENSIONS: [&str; 7] = ["economic", "food", "health", "environmental", "personal", "community", "political"];

/// Cross-cutting protection themes (NATO human security approach 2022, UN practice).
pub const THEMES: [&str; 5] = [
    "protection_of_civilians",
    "conflict_related_sexual_violence",
    "children_and_armed_conflict",
    "trafficking_in_human_beings",
    "cultural_property_protection",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Dimension,
    Theme,
}

/// A label is a dimension when it is one of the seven; any other id (including
/// themes an organisation adds to its framework) is a theme.
pub fn label_kind(id: &str) -> LabelKind {
    if DIMENSIONS.contains(&id) { LabelKind::Dimension } else { LabelKind::Theme }
}

/// The canonical labels first (dimensions, then themes), then any extra ids in
/// the order given, without duplicates.
pub fn label_universe<'a>(extra: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut labels: Vec<String> = DIMENSIONS.iter().chain(THEMES.iter()).map(|s| s.to_string()).collect();
    for id in extra {
        if !labels.iter().any(|l| l == id) {
            labels.push(id.to_string());
        }
    }
    labels
}
