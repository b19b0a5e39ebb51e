//! Documented mappings from source taxonomies (UCDP, ACLED, HXL) to the
//! framework's dimensions and themes. Every row carries a `why`.

use crate::domain::Tags;
use crate::error::FrameworkError;
use crate::taxonomy::Framework;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UcdpRule {
    pub type_of_violence: u8,
    #[serde(flatten)]
    pub reading: Reading,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcledRule {
    pub event_type: String,
    #[serde(default)]
    pub sub_event_type: Option<String>,
    #[serde(flatten)]
    pub reading: Reading,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HxlRule {
    pub hashtag: String,
    #[serde(default)]
    pub attributes: Vec<String>,
    #[serde(flatten)]
    pub reading: Reading,
}

/// What a mapping row reads a record as, and why.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reading {
    #[serde(default)]
    pub dimensions: Vec<String>,
    #[serde(default)]
    pub themes: Vec<String>,
    pub severity: u8,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mappings {
    pub ucdp: Vec<UcdpRule>,
    pub ucdp_civilian_deaths: Reading,
    pub acled: Vec<AcledRule>,
    pub acled_civilian_targeting: Reading,
    #[serde(default)]
    pub hxl: Vec<HxlRule>,
}

impl Mappings {
    pub(crate) fn validate(&self, fw: &Framework) -> Result<(), FrameworkError> {
        let readings = self
            .ucdp
            .iter()
            .map(|r| (format!("mappings.ucdp (type_of_violence = {})", r.type_of_violence), &r.reading))
            .chain(self.acled.iter().map(|r| {
                let sub = r.sub_event_type.as_deref().map(|s| format!(" / {s}")).unwrap_or_default();
                (format!("mappings.acled ({}{sub})", r.event_type), &r.reading)
            }))
            .chain(self.hxl.iter().map(|r| (format!("mappings.hxl ({})", r.hashtag), &r.reading)))
            .chain([
                ("mappings.ucdp_civilian_deaths".to_string(), &self.ucdp_civilian_deaths),
                ("mappings.acled_civilian_targeting".to_string(), &self.acled_civilian_targeting),
            ]);
        for (key, reading) in readings {
            validate_reading(fw, &key, reading)?;
        }
        Ok(())
    }
}

fn validate_reading(fw: &Framework, key: &str, r: &Reading) -> Result<(), FrameworkError> {
    if let Some(d) = r.dimensions.iter().find(|d| !fw.is_dimension(d)) {
        return Err(FrameworkError::invalid(
            format!("{key}.dimensions"),
            format!("`{d}` is not a dimension id; known: {}", fw.dimension_ids().collect::<Vec<_>>().join(", ")),
        ));
    }
    if let Some(t) = r.themes.iter().find(|t| !fw.is_theme(t)) {
        return Err(FrameworkError::invalid(
            format!("{key}.themes"),
            format!("`{t}` is not a theme id; known: {}", fw.theme_ids().collect::<Vec<_>>().join(", ")),
        ));
    }
    if !fw.scales.severity.iter().any(|s| s.level == r.severity) {
        return Err(FrameworkError::invalid(
            format!("{key}.severity"),
            format!("level {} is not on scales.severity", r.severity),
        ));
    }
    if r.why.trim().is_empty() {
        return Err(FrameworkError::invalid(format!("{key}.why"), "say why this mapping holds"));
    }
    Ok(())
}

impl Reading {
    fn to_tags(&self, rule: String) -> Tags {
        Tags { dimensions: self.dimensions.clone(), themes: self.themes.clone(), severity: self.severity, rule }
    }
}

/// Adds `extra` to `tags`: union of dimensions and themes, the higher severity.
fn merge(tags: &mut Tags, extra: &Reading, rule: &str) {
    for d in &extra.dimensions {
        if !tags.dimensions.contains(d) {
            tags.dimensions.push(d.clone());
        }
    }
    for t in &extra.themes {
        if !tags.themes.contains(t) {
            tags.themes.push(t.clone());
        }
    }
    tags.severity = tags.severity.max(extra.severity);
    tags.rule.push_str(" + ");
    tags.rule.push_str(rule);
}

/// The reading of a record no mapping row covers: imported, but untagged.
fn unmapped(what: String) -> Tags {
    Tags { rule: format!("unmapped: {what}"), ..Tags::default() }
}

impl Framework {
    /// Reads a UCDP GED event (`type_of_violence` 1, 2 or 3).
    pub fn tag_ucdp(&self, type_of_violence: u8, civilian_deaths: u32) -> Tags {
        let mut tags = match self.mappings.ucdp.iter().find(|r| r.type_of_violence == type_of_violence) {
            Some(r) => r.reading.to_tags(format!("ucdp type_of_violence={type_of_violence}")),
            None => unmapped(format!("UCDP type_of_violence {type_of_violence}")),
        };
        if civilian_deaths > 0 {
            merge(&mut tags, &self.mappings.ucdp_civilian_deaths, "ucdp deaths_civilians>0");
        }
        tags
    }

    /// Reads an ACLED event: the row matching both event and sub-event type
    /// wins over the row matching the event type alone.
    pub fn tag_acled(&self, event_type: &str, sub_event_type: Option<&str>, civilian_targeting: bool) -> Tags {
        let event_type = event_type.trim();
        let sub = sub_event_type.map(str::trim).filter(|s| !s.is_empty());
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let specific = sub.and_then(|sub| {
            self.mappings
                .acled
                .iter()
                .find(|r| same(&r.event_type, event_type) && r.sub_event_type.as_deref().is_some_and(|s| same(s, sub)))
        });
        let general =
            || self.mappings.acled.iter().find(|r| same(&r.event_type, event_type) && r.sub_event_type.is_none());
        let mut tags = match specific.or_else(general) {
            Some(r) => {
                let sub = r.sub_event_type.as_deref().map(|s| format!(" / {s}")).unwrap_or_default();
                r.reading.to_tags(format!("acled {}{sub}", r.event_type))
            }
            None => unmapped(format!("ACLED event type `{event_type}`")),
        };
        if civilian_targeting {
            merge(&mut tags, &self.mappings.acled_civilian_targeting, "acled civilian_targeting");
        }
        tags
    }

    /// Reads an HXL column by its hashtag and attributes (`#affected`, `+killed`).
    /// The rule with the most matching attributes wins.
    pub fn tag_hxl(&self, hashtag: &str, attributes: &[&str]) -> Option<Tags> {
        self.mappings
            .hxl
            .iter()
            .filter(|r| r.hashtag.eq_ignore_ascii_case(hashtag))
            .filter(|r| r.attributes.iter().all(|a| attributes.iter().any(|b| b.eq_ignore_ascii_case(a))))
            .max_by_key(|r| r.attributes.len())
            .map(|r| r.reading.to_tags(format!("hxl {}{}", r.hashtag, r.attributes.concat())))
    }
}
