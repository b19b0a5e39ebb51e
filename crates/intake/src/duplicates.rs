//! Likely duplicates: the same thing reported twice (two neighbours texting
//! about one attack, a focal point re-entering an SMS). Reports are linked
//! with a score, never merged or deleted; a person decides.
//!
//! Two reports are linked when they are at the same place (same area P-code,
//! or points within `radius_km`), close in time (within `window`), and their
//! texts share enough character trigrams (Jaccard similarity of the sets of
//! 3-character sequences of the lower-cased text, which works across
//! languages and spellings without a tokenizer).
//!
//! Blocking: reports are grouped by area (and, for points, by time and
//! latitude band) and compared only with those inside the time window; the
//! text is compared only when the places match.

use crate::report::{Reference, Report};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A link from one report to a likely duplicate of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateLink {
    pub other: Reference,
    /// 0..1: 0.6 x text similarity + 0.2 x time closeness + 0.2 x place closeness.
    pub score: f64,
    pub text_similarity: f64,
    pub hours_apart: f64,
    /// Distance when both have points; `None` when matched by area.
    pub km_apart: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateRules {
    pub window: SignedDuration,
    pub radius_km: f64,
    /// Minimum trigram Jaccard similarity of the texts.
    pub min_text_similarity: f64,
}

impl Default for DuplicateRules {
    fn default() -> Self {
        DuplicateRules { window: SignedDuration::from_hours(48), radius_km: 2.0, min_text_similarity: 0.3 }
    }
}

/// What duplicate detection needs of a report.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub reference: Reference,
    pub area_pcode: Option<String>,
    pub point: Option<(f64, f64)>,
    pub time: Timestamp,
    trigrams: Vec<u32>,
}

impl Candidate {
    pub fn new(
        reference: Reference,
        area_pcode: Option<String>,
        point: Option<(f64, f64)>,
        time: Timestamp,
        text: &str,
    ) -> Candidate {
        Candidate { reference, area_pcode, point, time, trigrams: trigrams(text) }
    }

    pub fn of(report: &Report) -> Candidate {
        Candidate::new(
            report.reference.clone(),
            report.place.area_pcode.clone(),
            report.place.point(),
            report.when(),
            &report.text,
        )
    }
}

/// A pair found to be likely duplicates (`a` earlier than or as early as `b`).
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicatePair {
    pub a: Reference,
    pub b: Reference,
    pub link: LinkFigures,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkFigures {
    pub score: f64,
    pub text_similarity: f64,
    pub hours_apart: f64,
    pub km_apart: Option<f64>,
}

impl DuplicatePair {
    /// The link as stored on each of the two reports.
    pub fn links(&self) -> [(Reference, DuplicateLink); 2] {
        let link = |other: &Reference| DuplicateLink {
            other: other.clone(),
            score: self.link.score,
            text_similarity: self.link.text_similarity,
            hours_apart: self.link.hours_apart,
            km_apart: self.link.km_apart,
        };
        [(self.a.clone(), link(&self.b)), (self.b.clone(), link(&self.a))]
    }
}

/// All likely duplicate pairs among `candidates`, earliest first.
///
/// Blocking: reports with an area are compared only with reports of the same
/// area inside the time window; reports with points are also compared with
/// other pointed reports inside the window whose latitude is close enough.
pub fn find_duplicates(candidates: &[Candidate], rules: &DuplicateRules) -> Vec<DuplicatePair> {
    let mut by_area: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        if let Some(area) = c.area_pcode.as_deref() {
            by_area.entry(area).or_default().push(i);
        }
    }
    let mut pairs: Vec<(usize, usize, LinkFigures)> = Vec::new();
    for block in by_area.values_mut() {
        compare_block(candidates, block, rules, &mut pairs, |_, _| true);
    }
    let mut pointed: Vec<usize> = (0..candidates.len()).filter(|&i| candidates[i].point.is_some()).collect();
    // 1 degree of latitude is at least 110.5 km anywhere.
    let max_dlat = rules.radius_km / 110.5;
    compare_block(candidates, &mut pointed, rules, &mut pairs, |a, b| {
        let same_area = a.area_pcode.is_some() && a.area_pcode == b.area_pcode;
        let (pa, pb) = (a.point.expect("pointed"), b.point.expect("pointed"));
        !same_area && (pa.0 - pb.0).abs() <= max_dlat
    });
    pairs.sort_by(|x, y| (candidates[x.0].time, x.0, x.1).cmp(&(candidates[y.0].time, y.0, y.1)));
    pairs
        .into_iter()
        .map(|(i, j, link)| DuplicatePair { a: candidates[i].reference.clone(), b: candidates[j].reference.clone(), link })
        .collect()
}

/// Sorts a block by time and compares each report with the later ones
/// inside the window that pass `worth_comparing`.
fn compare_block(
    candidates: &[Candidate],
    block: &mut [usize],
    rules: &DuplicateRules,
    pairs: &mut Vec<(usize, usize, LinkFigures)>,
    worth_comparing: impl Fn(&Candidate, &Candidate) -> bool,
) {
    block.sort_by_key(|&i| (candidates[i].time, i));
    for (pos, &i) in block.iter().enumerate() {
        let a = &candidates[i];
        for &j in &block[pos + 1..] {
            let b = &candidates[j];
            if b.time.duration_since(a.time) > rules.window {
                break;
            }
            if worth_comparing(a, b)
                && let Some(link) = compare(a, b, rules)
            {
                pairs.push((i, j, link));
            }
        }
    }
}

/// Likely duplicates of one new report among existing ones (the intake path).
pub fn duplicates_of(new: &Candidate, existing: &[Candidate], rules: &DuplicateRules) -> Vec<DuplicateLink> {
    existing
        .iter()
        .filter(|e| new.time.duration_since(e.time).abs() <= rules.window)
        .filter(|e| e.reference != new.reference)
        .filter_map(|e| {
            compare(e, new, rules).map(|f| DuplicateLink {
                other: e.reference.clone(),
                score: f.score,
                text_similarity: f.text_similarity,
                hours_apart: f.hours_apart,
                km_apart: f.km_apart,
            })
        })
        .collect()
}

fn compare(a: &Candidate, b: &Candidate, rules: &DuplicateRules) -> Option<LinkFigures> {
    let same_area = matches!((&a.area_pcode, &b.area_pcode), (Some(x), Some(y)) if x == y);
    if !same_area && !points_within(a.point, b.point, rules.radius_km) {
        return None;
    }
    // Jaccard cannot exceed |smaller| / |larger|: skip the merge when that is already too low.
    let (small, large) = (a.trigrams.len().min(b.trigrams.len()), a.trigrams.len().max(b.trigrams.len()));
    if (small as f64) < rules.min_text_similarity * large as f64 {
        return None;
    }
    let text_similarity = jaccard_at_least(&a.trigrams, &b.trigrams, rules.min_text_similarity)?;
    let km_apart = match (a.point, b.point) {
        (Some(p), Some(q)) => Some(haversine_km(p, q)),
        _ => None,
    };
    let hours_apart = b.time.duration_since(a.time).abs().as_secs_f64() / 3600.0;
    let time_closeness = 1.0 - (hours_apart / (rules.window.as_secs_f64() / 3600.0)).min(1.0);
    let place_closeness = km_apart.map(|d| 1.0 - (d / rules.radius_km).min(1.0)).unwrap_or(0.5);
    let score = 0.6 * text_similarity + 0.2 * time_closeness + 0.2 * place_closeness;
    Some(LinkFigures { score, text_similarity, hours_apart, km_apart })
}

/// Whether both points exist and lie within `radius_km`; the latitude
/// difference is checked first (1 degree of latitude is at least 110.5 km).
fn points_within(p: Option<(f64, f64)>, q: Option<(f64, f64)>, radius_km: f64) -> bool {
    match (p, q) {
        (Some(p), Some(q)) => (p.0 - q.0).abs() <= radius_km / 110.5 && haversine_km(p, q) <= radius_km,
        _ => false,
    }
}

/// The Jaccard similarity of two sorted sets when it is at least `min`,
/// else `None`. The merge is branch-free (a compare decides how far each
/// side moves), and stops as soon as the common elements still possible
/// cannot reach `min`: J >= min  <=>  |A n B| >= min (|A| + |B|) / (1 + min).
pub fn jaccard_at_least(a: &[u32], b: &[u32], min: f64) -> Option<f64> {
    if a.is_empty() && b.is_empty() {
        return (min <= 0.0).then_some(0.0);
    }
    let needed = (min * (a.len() + b.len()) as f64 / (1.0 + min) - 1e-9).ceil().max(0.0) as usize;
    let (mut i, mut j, mut common) = (0usize, 0usize, 0usize);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        common += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
        if (i & 15) == 0 && common + (a.len() - i).min(b.len() - j) < needed {
            return None;
        }
    }
    let s = common as f64 / (a.len() + b.len() - common) as f64;
    (s >= min).then_some(s)
}

/// Sorted, de-duplicated hashes of the character trigrams of the text,
/// lower-cased, with runs of non-alphanumeric characters read as one space.
pub fn trigrams(text: &str) -> Vec<u32> {
    let mut chars: Vec<char> = vec![' '];
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_alphanumeric() { c } else { ' ' };
        if !(c == ' ' && chars.last() == Some(&' ')) {
            chars.push(c);
        }
    }
    if chars.last() != Some(&' ') {
        chars.push(' ');
    }
    let mut grams: Vec<u32> = chars
        .windows(3)
        .map(|w| {
            // FNV-1a over the three code points.
            let mut h: u32 = 0x811c_9dc5;
            for &c in w {
                h = (h ^ c as u32).wrapping_mul(0x0100_0193);
            }
            h
        })
        .collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// |A ∩ B| / |A ∪ B| of two sorted sets.
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / (a.len() + b.len() - common) as f64
}

/// Great-circle distance between two (lat, lon) points, mean Earth radius 6371 km.
pub fn haversine_km(p: (f64, f64), q: (f64, f64)) -> f64 {
    let (lat1, lon1) = (p.0.to_radians(), p.1.to_radians());
    let (lat2, lon2) = (q.0.to_radians(), q.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_of_hand_counted_sets() {
        // "ab" -> " ab", "ab " ; "abc" -> " ab", "abc", "bc " : 1 common of 4.
        let s = jaccard(&trigrams("ab"), &trigrams("abc"));
        assert!((s - 0.25).abs() < 1e-12, "{s}");
        assert_eq!(jaccard(&trigrams("Hello, world"), &trigrams("hello world!")), 1.0);
    }

    #[test]
    fn jaccard_at_least_agrees_with_the_plain_merge() {
        let texts = [
            "armed men looted the shops near Bouca",
            "armed men looted shops near Bouca village",
            "cholera cases were reported in Kabo",
            "des hommes armés ont été vus près de Bouca",
            "",
        ];
        for a in texts {
            for b in texts {
                let (ta, tb) = (trigrams(a), trigrams(b));
                let plain = jaccard(&ta, &tb);
                for min in [0.0, 0.1, 0.3, 0.5, 0.9] {
                    let fast = jaccard_at_least(&ta, &tb, min);
                    if plain >= min && !(ta.is_empty() && tb.is_empty()) {
                        assert_eq!(fast, Some(plain), "{a:?} {b:?} {min}");
                    } else if plain < min {
                        assert_eq!(fast, None, "{a:?} {b:?} {min}");
                    }
                }
            }
        }
    }

    #[test]
    fn haversine_one_degree_of_latitude() {
        // 1 degree of arc on a 6371 km sphere = 6371 * pi / 180 = 111.19 km.
        let d = haversine_km((0.0, 20.0), (1.0, 20.0));
        assert!((d - 111.195).abs() < 0.01, "{d}");
    }
}
