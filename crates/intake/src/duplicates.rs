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
        .map(|(i, j, link)| DuplicatePair {
            a: candidates[i].reference.clone(),
            b: candidates[j].reference.clone(),
            link,
        })
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

/// Earlier reports of the same area an import row is compared with (the
/// newest ones inside the window), as the server's bounded look-up keeps.
pub const BATCH_LOOKBACK: usize = 256;

/// Likely duplicates for an import about to be stored, with the server's
/// bounded look-up: in time order, each row is compared with at most
/// [`BATCH_LOOKBACK`] newest earlier reports of its area inside the window
/// (earlier rows and `stored`), and pointed rows also with unplaced pointed
/// reports; it keeps its `max_links` best links, and each link is mirrored on
/// the other report while that one has fewer than `max_links`.
///
/// Returns the links of each row (same order as `rows`) and the links to
/// add to stored reports. Areas are independent, so they are linked on
/// `threads` threads; a comparison that cannot beat the row's current
/// `max_links`-th score is cut short (score bound with the text similarity
/// needed, see [`jaccard_at_least`]).
pub fn link_import(
    rows: &[Candidate],
    stored: &[Candidate],
    rules: &DuplicateRules,
    max_links: usize,
    threads: usize,
) -> (Vec<Vec<DuplicateLink>>, Vec<(Reference, DuplicateLink)>) {
    // All candidates: stored first (index < stored.len()), then rows.
    let all: Vec<&Candidate> = stored.iter().chain(rows).collect();
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| (all[i].time, i));
    let mut by_area: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    let mut unplaced: Vec<usize> = Vec::new();
    for &i in &order {
        match all[i].area_pcode.as_deref() {
            Some(a) => by_area.entry(a).or_default().push(i),
            None if all[i].point.is_some() => unplaced.push(i),
            None => {}
        }
    }
    let first_row = stored.len();
    // Best links found looking back, per candidate index: (score, other, figures).
    let blocks: Vec<&Vec<usize>> = by_area.values().collect();
    let found: Vec<Vec<(usize, Links)>> = std::thread::scope(|s| {
        let threads = threads.clamp(1, blocks.len().max(1));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (blocks, all) = (&blocks, &all);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for block in blocks.iter().skip(t).step_by(threads) {
                        for (pos, &i) in block.iter().enumerate() {
                            if i >= first_row {
                                out.push((i, look_back(all, i, &block[..pos], rules, max_links)));
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut own: Vec<Links> = vec![Vec::new(); all.len()];
    for (i, links) in found.into_iter().flatten() {
        own[i] = links;
    }
    // Pointed rows against unplaced pointed reports that came before them.
    if !unplaced.is_empty() {
        for &i in order.iter().filter(|&&i| i >= first_row && all[i].point.is_some()) {
            let end = unplaced.partition_point(|&u| (all[u].time, u) < (all[i].time, i));
            let mut links = std::mem::take(&mut own[i]);
            links.extend(look_back(&all, i, &unplaced[..end], rules, max_links));
            links.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
            links.truncate(max_links);
            own[i] = links;
        }
    }
    // Mirror links in time order, as they would have been made one by one.
    let link_to = |other: usize, f: &LinkFigures| DuplicateLink {
        other: all[other].reference.clone(),
        score: f.score,
        text_similarity: f.text_similarity,
        hours_apart: f.hours_apart,
        km_apart: f.km_apart,
    };
    let mut links: Vec<Vec<DuplicateLink>> = vec![Vec::new(); rows.len()];
    let mut back_to_stored = Vec::new();
    for &i in order.iter().filter(|&&i| i >= first_row) {
        for (j, f) in &own[i] {
            let back = link_to(i, f);
            if *j < first_row {
                back_to_stored.push((all[*j].reference.clone(), back));
            } else if links[j - first_row].len() < max_links {
                links[j - first_row].push(back);
            }
        }
        let mine: Vec<DuplicateLink> = own[i].iter().map(|(j, f)| link_to(*j, f)).collect();
        links[i - first_row] = mine;
    }
    (links, back_to_stored)
}

/// One candidate's links: (index of the other candidate, figures).
type Links = Vec<(usize, LinkFigures)>;

/// The best `max_links` links of candidate `i` among `earlier` (time order,
/// oldest first): the newest [`BATCH_LOOKBACK`] inside the window are compared.
fn look_back(all: &[&Candidate], i: usize, earlier: &[usize], rules: &DuplicateRules, max_links: usize) -> Links {
    let new = all[i];
    let mut best: Links = Vec::with_capacity(max_links + 1);
    let window_h = rules.window.as_secs_f64() / 3600.0;
    for &j in earlier.iter().rev().take(BATCH_LOOKBACK) {
        let old = all[j];
        if new.time.duration_since(old.time).abs() > rules.window {
            break;
        }
        if old.reference == new.reference {
            continue;
        }
        // The score cannot exceed 0.6 J + 0.2 time + 0.2 place: what J must reach to enter the best.
        let mut min_text = rules.min_text_similarity;
        if best.len() == max_links && max_links > 0 {
            let hours = new.time.duration_since(old.time).abs().as_secs_f64() / 3600.0;
            let time_closeness = 1.0 - (hours / window_h).min(1.0);
            // The place term exactly (a distance costs less than a text merge).
            let place_max = match (new.point, old.point) {
                (Some(p), Some(q)) => 1.0 - (haversine_km(p, q) / rules.radius_km).min(1.0),
                _ => 0.5,
            };
            let floor = best[max_links - 1].1.score;
            min_text = min_text.max((floor - 0.2 * time_closeness - 0.2 * place_max) / 0.6);
            if min_text > 1.0 {
                continue;
            }
        }
        let Some(f) = compare_with_min(old, new, rules, min_text) else { continue };
        let at = best.partition_point(|b| b.1.score >= f.score);
        if at < max_links {
            best.insert(at, (j, f));
            best.truncate(max_links);
        }
    }
    best
}

fn compare(a: &Candidate, b: &Candidate, rules: &DuplicateRules) -> Option<LinkFigures> {
    compare_with_min(a, b, rules, rules.min_text_similarity)
}

/// [`compare`] with a text similarity floor of `min_text` (at least the rules' own).
fn compare_with_min(a: &Candidate, b: &Candidate, rules: &DuplicateRules, min_text: f64) -> Option<LinkFigures> {
    let same_area = matches!((&a.area_pcode, &b.area_pcode), (Some(x), Some(y)) if x == y);
    if !same_area && !points_within(a.point, b.point, rules.radius_km) {
        return None;
    }
    // Jaccard cannot exceed |smaller| / |larger|: skip the merge when that is already too low.
    let (small, large) = (a.trigrams.len().min(b.trigrams.len()), a.trigrams.len().max(b.trigrams.len()));
    if (small as f64) < min_text * large as f64 {
        return None;
    }
    let text_similarity = jaccard_at_least(&a.trigrams, &b.trigrams, min_text)?;
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

    fn at(time: &str, area: &str, text: &str, n: u32) -> Candidate {
        Candidate::new(Reference::from_number(n), Some(area.into()), None, time.parse().unwrap(), text)
    }

    #[test]
    fn an_import_links_repeats_both_ways_within_area_and_window_and_back_to_stored_reports() {
        let text = "armed men burned three houses in Bouca";
        let stored = [at("2024-05-01T00:00:00Z", "CF32", text, 1)];
        let rows = [
            at("2024-05-01T06:00:00Z", "CF32", text, 2),
            at("2024-05-01T07:00:00Z", "CF11", text, 3), // another area
            at("2024-05-05T07:00:00Z", "CF32", text, 4), // outside 48 h of the others
            at("2024-05-01T08:00:00Z", "CF32", "cholera cases at the health centre", 5),
        ];
        let (links, back) = link_import(&rows, &stored, &DuplicateRules::default(), 5, 2);
        let others = |k: usize| links[k].iter().map(|l| l.other.clone()).collect::<Vec<_>>();
        assert_eq!(others(0), [Reference::from_number(1)]);
        assert!(links[1].is_empty() && links[2].is_empty() && links[3].is_empty(), "{links:?}");
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].0.clone(), back[0].1.other.clone()),
            (Reference::from_number(1), Reference::from_number(2))
        );
        // Same text, 6 h of 48: 0.6 x 1 + 0.2 x (1 - 6/48) + 0.2 x 0.5 (matched by area).
        assert!((links[0][0].score - (0.6 + 0.2 * 42.0 / 48.0 + 0.1)).abs() < 1e-12, "{}", links[0][0].score);
    }

    #[test]
    fn an_import_keeps_the_best_links_of_a_burst() {
        let rows: Vec<Candidate> = (0..20)
            .map(|n| at(&format!("2024-05-01T{:02}:00:00Z", n), "CF32", "armed men burned three houses", n))
            .collect();
        let (links, _) = link_import(&rows, &[], &DuplicateRules::default(), 3, 2);
        assert!(links.iter().all(|l| l.len() <= 3));
        // The last row's best links are the three rows just before it (closest in time).
        let last: Vec<Reference> = links[19].iter().map(|l| l.other.clone()).collect();
        assert_eq!(last, [18, 17, 16].map(Reference::from_number));
        // The first row gets back links from the rows after it, up to the cap.
        assert_eq!(links[0].len(), 3);
    }

    #[test]
    fn haversine_one_degree_of_latitude() {
        // 1 degree of arc on a 6371 km sphere = 6371 * pi / 180 = 111.19 km.
        let d = haversine_km((0.0, 20.0), (1.0, 20.0));
        assert!((d - 111.195).abs() < 0.01, "{d}");
    }
}
