//! Community reports in the server and the CLI: the submission pipeline
//! every channel goes through (validate, read the text, place, link likely
//! duplicates, store), the conversion of reports into events for the
//! assessment, and small-count suppression of published aggregates.

use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use thiserror::Error;
use vitalcore_classify::{Classifier, LabelKind, label_kind};
use vitalcore_framework::{Event, Place, Provenance, Source, Tags};
use vitalcore_intake::duplicates::{Candidate, DuplicateLink, DuplicateRules, duplicates_of};
use vitalcore_intake::report::{AreaResolver, FieldError, Reader, Verification};
use vitalcore_intake::workflow::Deadlines;
use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, InvalidReport, Reference, Report, ReportDraft};
use vitalcore_security::auth::CsrfKey;
use vitalcore_spatial::AreaIndex;
use vitalcore_store::Area;
use vitalcore_store::StoreError;
use vitalcore_store::reports::{ReportFilter, ReportStore};

/// What the operator configures for intake.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Refuse anonymous submissions through the web form.
    pub require_login: bool,
    /// Twilio account auth token: when set, `/sms/twilio` checks `X-Twilio-Signature`.
    pub twilio_auth_token: Option<String>,
    /// The server's public base URL (`https://alerts.example.org`), as Twilio
    /// signs it; default `http://<Host header>`.
    pub public_url: Option<String>,
    /// How long a browser session lasts.
    pub session_hours: i64,
    /// Largest JSON body accepted by the API.
    pub max_api_body: usize,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            require_login: false,
            twilio_auth_token: None,
            public_url: None,
            session_hours: 12,
            max_api_body: 64 * 1024,
        }
    }
}

#[derive(Debug, Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] InvalidReport),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Text reader backed by the classifier: the built-in lexicon (cold start,
/// no model file) or a trained model.
pub struct ClassifierReader(pub Classifier);

impl Reader for ClassifierReader {
    fn read(&self, text: &str, _language: Option<&str>) -> Tags {
        let mut tags = Tags::default();
        let mut found = Vec::new();
        for score in self.0.predict(text).iter().filter(|s| s.is_positive()) {
            found.push(score.label.to_string());
            match label_kind(score.label) {
                LabelKind::Dimension => tags.dimensions.push(score.label.to_string()),
                LabelKind::Theme => tags.themes.push(score.label.to_string()),
            }
        }
        if !found.is_empty() {
            let kind = if matches!(self.0, Classifier::Model(_)) { "model" } else { "lexicon" };
            tags.rule = format!("text read by the classifier ({kind}): {}", found.join(", "));
        }
        tags
    }
}

/// Places a report with the loaded boundaries: a point goes to the admin-2
/// area containing it (admin-1 when no admin-2 is loaded); a place name is
/// matched against admin-2 then admin-1 names.
pub struct IndexResolver(pub Arc<AreaIndex>);

impl AreaResolver for IndexResolver {
    fn resolve(&self, point: Option<(f64, f64)>, place_name: Option<&str>) -> Option<String> {
        if let Some((lat, lon)) = point {
            let (a1, a2) = self.0.locate(lon, lat);
            if let Some(a) = a2.or(a1) {
                return Some(a.pcode.clone());
            }
        }
        let name = place_name?;
        self.0.by_name(2, name).or_else(|| self.0.by_name(1, name)).map(|a| a.pcode.clone())
    }
}

/// Reports of the last days per area, for duplicate look-ups without a
/// database query per submission. Bounded per area (the newest are kept).
#[derive(Default)]
struct Recent {
    by_area: HashMap<String, Vec<Candidate>>,
    unplaced_points: Vec<Candidate>,
}

/// Reports kept per area for duplicate look-ups: the newest 128 to 256 of
/// the last 48 hours. Below that volume every report of the window is
/// compared; in a burst, a repeat of the same event is among the newest.
const RECENT_PER_AREA: usize = 256;
/// Links kept per new report (the highest scores).
pub const MAX_LINKS: usize = 5;

impl Recent {
    fn push(&mut self, c: Candidate) {
        let list = match &c.area_pcode {
            Some(a) => self.by_area.entry(a.clone()).or_default(),
            None if c.point.is_some() => &mut self.unplaced_points,
            None => return,
        };
        if list.len() >= RECENT_PER_AREA {
            // Drop the older half at once (amortised O(1) per push).
            list.drain(..RECENT_PER_AREA / 2);
        }
        list.push(c);
    }

    fn links(&self, new: &Candidate, rules: &DuplicateRules) -> Vec<DuplicateLink> {
        let mut out = Vec::new();
        if let Some(area) = &new.area_pcode
            && let Some(list) = self.by_area.get(area)
        {
            out.extend(duplicates_of(new, list, rules));
        }
        if new.point.is_some() {
            out.extend(duplicates_of(new, &self.unplaced_points, rules));
        }
        out
    }
}

/// Everything the intake channels share.
pub struct Reports {
    pub store: Arc<dyn ReportStore>,
    pub intake: Intake,
    /// Whether the operator gave a contact key (without one, contacts are refused).
    pub key_configured: bool,
    pub csrf: CsrfKey,
    pub deadlines: Deadlines,
    pub config: IntakeConfig,
    pub areas: Arc<AreaIndex>,
    pub duplicate_rules: DuplicateRules,
    recent: Mutex<Recent>,
    back_links: BackLinks,
}

/// Links to add to older reports: (older report, link to the new one).
type LinkBatch = Vec<(Reference, DuplicateLink)>;

/// Writes links back from older reports to new ones on a worker thread.
/// Dropping it waits until every queued link is stored.
struct BackLinks {
    tx: Mutex<Option<std::sync::mpsc::Sender<LinkBatch>>>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl BackLinks {
    fn start(store: Arc<dyn ReportStore>) -> BackLinks {
        let (tx, rx) = std::sync::mpsc::channel::<LinkBatch>();
        let worker = std::thread::Builder::new()
            .name("duplicate-links".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut by_report: HashMap<Reference, Vec<DuplicateLink>> = HashMap::new();
                    for (on, link) in first.into_iter().chain(rx.try_iter().flatten()) {
                        by_report.entry(on).or_default().push(link);
                    }
                    write_links(&*store, by_report);
                }
            })
            .ok();
        BackLinks { tx: Mutex::new(Some(tx)), worker: Mutex::new(worker) }
    }

    fn send(&self, links: LinkBatch) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = tx.send(links);
        }
    }
}

impl Drop for BackLinks {
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = w.join();
        }
    }
}

/// Stores a batch of back links in one write (all links a report gains in
/// the batch together). A link to a report that is gone is dropped (the new
/// report keeps its own).
fn write_links(store: &dyn ReportStore, by_report: HashMap<Reference, Vec<DuplicateLink>>) {
    let batch: Vec<(Reference, Vec<DuplicateLink>)> = by_report.into_iter().collect();
    let _ = store.add_duplicate_links_many(&batch);
}

impl std::fmt::Debug for Reports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reports").field("key_configured", &self.key_configured).finish_non_exhaustive()
    }
}

/// Why the reports service could not be set up.
#[derive(Debug, Error)]
pub enum SetupError {
    #[error("the stored boundaries cannot be used to place reports: {0}")]
    Areas(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl Reports {
    /// The service over `store`, placing reports with `areas`. Without a
    /// `key`, a throw-away key is used for nothing but reference sealing and
    /// any report carrying a contact is refused.
    pub fn new(
        store: Arc<dyn ReportStore>,
        key: Option<ContactKey>,
        categories: CategoryMap,
        classifier: Classifier,
        areas: &[Area],
        config: IntakeConfig,
        now: Timestamp,
    ) -> Result<Reports, SetupError> {
        let key_configured = key.is_some();
        let key = match key {
            Some(k) => k,
            None => ContactKey::generate().map_err(|e| SetupError::Other(e.to_string()))?.0,
        };
        let index = Arc::new(AreaIndex::new(areas).map_err(|e| SetupError::Areas(e.to_string()))?);
        let intake = Intake::new(key, categories)
            .with_reader(Box::new(ClassifierReader(classifier)))
            .with_resolver(Box::new(IndexResolver(index.clone())));
        let reports = Reports {
            back_links: BackLinks::start(store.clone()),
            store,
            intake,
            key_configured,
            csrf: CsrfKey::generate().map_err(|e| SetupError::Other(e.to_string()))?,
            deadlines: Deadlines::built_in(),
            config,
            areas: index,
            duplicate_rules: DuplicateRules::default(),
            recent: Mutex::new(Recent::default()),
        };
        reports.prime_recent(now)?;
        Ok(reports)
    }

    pub fn with_deadlines(mut self, deadlines: Deadlines) -> Reports {
        self.deadlines = deadlines;
        self
    }

    fn prime_recent(&self, now: Timestamp) -> Result<(), StoreError> {
        let since = now.checked_sub(self.duplicate_rules.window).unwrap_or(now);
        let filter = ReportFilter { received_from: Some(since), ..ReportFilter::default() };
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        for r in self.store.reports(&filter)? {
            recent.push(Candidate::of(&r));
        }
        Ok(())
    }

    /// The refusal when a contact arrives and no key is configured.
    pub fn no_key_error() -> FieldError {
        FieldError::new("contact", "invalid.no_key", vec![])
    }

    /// Validates, reads, places, links and stores a draft; returns the
    /// stored report. Nothing is stored when the draft is invalid.
    pub fn submit(&self, draft: &ReportDraft, channel: Channel, now: Timestamp) -> Result<Report, SubmitError> {
        let has_contact = draft.contact.as_ref().is_some_and(|c| !c.expose_secret().trim().is_empty());
        if has_contact && !self.key_configured {
            return Err(InvalidReport { errors: vec![Reports::no_key_error()] }.into());
        }
        let mut report = self.intake.accept(draft, channel, now)?;
        let candidate = Candidate::of(&report);
        let mut links = self.recent.lock().unwrap_or_else(|p| p.into_inner()).links(&candidate, &self.duplicate_rules);
        // A burst of near-identical messages would link every report to every
        // other one; the strongest few are what a person needs to see.
        links.sort_by(|a, b| b.score.total_cmp(&a.score));
        links.truncate(MAX_LINKS);
        report.duplicates = links;
        // A 30-bit reference can collide; draw another one.
        let mut attempts = 0;
        loop {
            match self.store.insert_report(&report) {
                Ok(()) => break,
                Err(StoreError::Conflict(_)) if attempts < 5 => {
                    attempts += 1;
                    let fresh = self.intake.accept(draft, report.channel.clone(), now)?;
                    report.reference = fresh.reference;
                    report.contact = fresh.contact;
                }
                Err(e) => return Err(e.into()),
            }
        }
        // The new report carries its links (stored with it); the links back
        // from the older reports are written after the answer by one worker,
        // in batches, so a submission waits for one durable write, not six.
        if !report.duplicates.is_empty() {
            let backs: LinkBatch = report
                .duplicates
                .iter()
                .map(|l| (l.other.clone(), DuplicateLink { other: report.reference.clone(), ..l.clone() }))
                .collect();
            self.back_links.send(backs);
        }
        self.recent.lock().unwrap_or_else(|p| p.into_inner()).push(Candidate::of(&report));
        Ok(report)
    }

    /// Links likely duplicates for a batch about to be stored (a KoBo
    /// import), in time order, each against the recent reports of its area
    /// and the batch rows before it: the same bounded look-up as a single
    /// submission, at most [`MAX_LINKS`] links each. Links back to reports
    /// already stored are written by the worker; links between rows of the
    /// batch are set on both rows here.
    pub fn link_batch(&self, batch: &mut [Report]) {
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by_key(|&i| batch[i].when());
        let position: HashMap<Reference, usize> =
            batch.iter().enumerate().map(|(i, r)| (r.reference.clone(), i)).collect();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let mut stored_backs = Vec::new();
        for i in order {
            let candidate = Candidate::of(&batch[i]);
            let mut links = recent.links(&candidate, &self.duplicate_rules);
            links.sort_by(|a, b| b.score.total_cmp(&a.score));
            links.truncate(MAX_LINKS);
            for l in &links {
                let back = DuplicateLink { other: batch[i].reference.clone(), ..l.clone() };
                match position.get(&l.other) {
                    Some(&j) if batch[j].duplicates.len() < MAX_LINKS => batch[j].duplicates.push(back),
                    Some(_) => {}
                    None => stored_backs.push((l.other.clone(), back)),
                }
            }
            batch[i].duplicates = links;
            recent.push(candidate);
        }
        drop(recent);
        if !stored_backs.is_empty() {
            self.back_links.send(stored_backs);
        }
    }

    /// Remembers reports stored by another path (KoBo import) for duplicate look-ups.
    pub fn remember(&self, reports: &[Report]) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        for r in reports {
            recent.push(Candidate::of(r));
        }
    }
}

/// Community reports as events for the assessment and area profiles, with
/// source `CommunityReport` so they are counted apart from event data.
/// Only what aggregates need is carried: the date, the area (P-codes and
/// name), the point and the tags; never the text, place name or reporter.
/// Unfounded reports are left out.
pub fn community_events(reports: &[Report], areas: &AreaIndex) -> Vec<Event> {
    reports.iter().filter(|r| r.verification != Verification::Unfounded).map(|r| report_event(r, areas)).collect()
}

fn report_event(r: &Report, areas: &AreaIndex) -> Event {
    let mut place = Place { latitude: r.place.latitude, longitude: r.place.longitude, ..Place::default() };
    if let Some(pcode) = &r.place.area_pcode {
        match areas.by_pcode(pcode) {
            Some(a) if a.level == 2 => {
                place.admin2_pcode = Some(a.pcode.clone());
                place.admin2 = Some(a.name.clone());
                place.admin1_pcode = a.parent_pcode.clone();
                place.admin1 = a.parent_pcode.as_deref().and_then(|p| areas.by_pcode(p)).map(|p| p.name.clone());
                place.country = a.country.clone();
            }
            Some(a) => {
                place.admin1_pcode = Some(a.pcode.clone());
                place.admin1 = Some(a.name.clone());
                place.country = a.country.clone();
            }
            None => place.admin1_pcode = Some(pcode.clone()),
        }
    }
    let date = r.when().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    Event {
        provenance: Provenance {
            source: Source::CommunityReport,
            source_id: r.reference.to_string(),
            file: format!("report:{}", r.channel.kind()),
            line: 0,
        },
        date,
        date_end: None,
        place,
        event_type: format!("community report: {}", r.category.as_deref().unwrap_or("uncategorised")),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities: 0,
        civilian_fatalities: None,
        civilian_targeting: false,
        notes: None,
        tags: r.tags.clone(),
    }
}

/// Small counts of community reports could point at the person who
/// reported. Published aggregates (JSON seen by viewers and the public)
/// follow one rule: a `reports` count from 1 to 4 is written as `null` with
/// `"reports_suppressed": true` next to it; 0 and counts of 5 or more are
/// shown. Applied to every object at any depth.
pub const SUPPRESS_BELOW: u64 = 5;

pub fn suppress_small_report_counts(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let small = map.get("reports").and_then(Value::as_u64).is_some_and(|n| (1..SUPPRESS_BELOW).contains(&n));
            if small {
                map.insert("reports".into(), Value::Null);
                map.insert("reports_suppressed".into(), Value::Bool(true));
            }
            for v in map.values_mut() {
                suppress_small_report_counts(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(suppress_small_report_counts),
        _ => {}
    }
}

/// The same rule for any named count fields (alert metrics shown to viewers).
pub fn suppress_small_counts(value: &mut Value, fields: &[&str]) {
    match value {
        Value::Object(map) => {
            let mut any = false;
            for f in fields {
                if map.get(*f).and_then(Value::as_u64).is_some_and(|n| (1..SUPPRESS_BELOW).contains(&n)) {
                    map.insert((*f).to_string(), Value::Null);
                    any = true;
                }
            }
            if any {
                map.insert("suppressed".into(), Value::Bool(true));
            }
            for v in map.values_mut() {
                suppress_small_counts(v, fields);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| suppress_small_counts(v, fields)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use vitalcore_store::testing::MemoryStore;

    fn reports(store: Arc<dyn ReportStore>, key: bool) -> Reports {
        let area = Area {
            pcode: "CF32".into(),
            name: "Ouham".into(),
            level: 1,
            parent_pcode: None,
            country: Some("Central African Republic".into()),
            geometry: Some(r#"{"type":"Polygon","coordinates":[[[17,6],[19,6],[19,8],[17,8],[17,6]]]}"#.into()),
        };
        let key = key.then(|| ContactKey::from_bytes([1; 32]));
        let now: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        Reports::new(
            store,
            key,
            CategoryMap::built_in(),
            Classifier::lexicon_only(),
            &[area],
            IntakeConfig::default(),
            now,
        )
        .unwrap()
    }

    #[test]
    fn a_report_is_placed_read_and_linked_to_its_duplicate() {
        let store = Arc::new(MemoryStore::new());
        let r = reports(store.clone(), true);
        let now: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        let draft = || ReportDraft {
            text: "Armed men burned three houses in Bouca village last night".into(),
            latitude: Some(6.5),
            longitude: Some(18.3),
            ..ReportDraft::default()
        };
        let a = r.submit(&draft(), Channel::Cli, now).unwrap();
        assert_eq!(a.place.area_pcode.as_deref(), Some("CF32"), "the point (18.3 E, 6.5 N) is inside the square");
        // No category was given: any tag comes from the classifier reading the text.
        assert!(!a.tags.dimensions.is_empty() && a.tags.rule.contains("classifier"), "{:?}", a.tags);
        let b = r.submit(&draft(), Channel::Cli, now).unwrap();
        assert_eq!(b.duplicates.len(), 1);
        assert_eq!(b.duplicates[0].other, a.reference);
        drop(r); // waits for the back links
        let a_again = store.report(&a.reference).unwrap().unwrap();
        assert_eq!(a_again.duplicates[0].other, b.reference, "linked both ways");
        assert_eq!(store.reports(&ReportFilter::default()).unwrap().len(), 2, "linked, not merged");
    }

    #[test]
    fn without_a_key_a_contact_is_refused_and_nothing_stored() {
        let store = Arc::new(MemoryStore::new());
        let r = reports(store.clone(), false);
        let draft =
            ReportDraft { text: "x".into(), contact: Some("+236 1".to_string().into()), ..ReportDraft::default() };
        let err = r.submit(&draft, Channel::WebForm, Timestamp::now()).unwrap_err();
        assert!(err.to_string().contains("keygen"), "{err}");
        assert!(store.reports(&ReportFilter::default()).unwrap().is_empty());
    }

    #[test]
    fn counts_one_to_four_are_suppressed_at_any_depth() {
        let mut v =
            json!({"rows": [{"reports": 0}, {"reports": 1}, {"reports": 4}, {"reports": 5}], "total": {"reports": 3}});
        suppress_small_report_counts(&mut v);
        assert_eq!(v["rows"][0]["reports"], 0);
        assert_eq!(v["rows"][1]["reports"], Value::Null);
        assert_eq!(v["rows"][1]["reports_suppressed"], true);
        assert_eq!(v["rows"][2]["reports"], Value::Null);
        assert_eq!(v["rows"][3]["reports"], 5);
        assert!(v["rows"][3].get("reports_suppressed").is_none());
        assert_eq!(v["total"]["reports"], Value::Null);
    }
}
