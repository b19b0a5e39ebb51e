//! Community reports in the server and the CLI: the submission pipeline
//! every channel goes through (validate, read the text, place, link likely
//! duplicates, store) and the conversion of reports into events for the
//! assessment. What of them is published is decided in [`crate::disclosure`].

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use thiserror::Error;
use vitalcore_classify::{Classifier, LabelKind, label_kind};
use vitalcore_framework::{Event, Place, Provenance, Source, Tags};
use vitalcore_intake::duplicates::{Candidate, DuplicateLink, DuplicateRules, duplicates_of, link_import};
use vitalcore_intake::report::{AreaCheck, AreaResolver, FieldError, Reader, Verification};
use vitalcore_intake::text::is_pcode;
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
    /// Twilio account auth token. Without one `/sms/twilio` is closed (every
    /// request is refused); with one, a request must carry a matching
    /// `X-Twilio-Signature`.
    pub twilio_auth_token: Option<SecretString>,
    /// The secret RapidPro/TextIt sends as `Authorization: Token <secret>`.
    /// Without one `/sms/rapidpro` is closed (every request is refused).
    pub rapidpro_secret: Option<SecretString>,
    /// The server's public base URL (`https://alerts.example.org`), as Twilio
    /// signs it; default `http://<Host header>`.
    pub public_url: Option<String>,
    /// How long a browser session lasts.
    pub session_hours: i64,
    /// A browser session left unused this long ends (see `accounts`).
    pub session_idle_minutes: i64,
    /// Largest JSON body accepted by the API.
    pub max_api_body: usize,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            require_login: false,
            twilio_auth_token: None,
            rapidpro_secret: None,
            public_url: None,
            session_hours: 12,
            session_idle_minutes: 30,
            max_api_body: 64 * 1024,
        }
    }
}

/// One intake channel as the server takes it: open, or closed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelStatus {
    /// `SMS Twilio`, `web form`, ...
    pub name: &'static str,
    /// The route it is reached at.
    pub route: &'static str,
    /// Whether a request can store a report through it at all.
    pub open: bool,
    /// `open (...)`, `closed (...)` or `token required`: what a person reads.
    pub state: String,
}

impl std::fmt::Display for ChannelStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.name, self.route, self.state)
    }
}

/// How to give the server an SMS secret, for messages.
pub const TWILIO_TOKEN_HOW: &str =
    "set twilio_auth_token under [webhooks] in the --config file, or VITALCORE_TWILIO_AUTH_TOKEN";
pub const RAPIDPRO_SECRET_HOW: &str =
    "set rapidpro_secret under [webhooks] in the --config file, or VITALCORE_RAPIDPRO_SECRET";

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

    /// A P-code sent with a report is one of the loaded areas (any level),
    /// spelt as stored; with no boundaries loaded only its shape is checked.
    fn check(&self, pcode: &str) -> AreaCheck {
        if self.0.areas().is_empty() {
            return AreaCheck::NoAreas;
        }
        match self.0.by_pcode(pcode) {
            Some(a) => AreaCheck::Known(a.pcode.clone()),
            None => AreaCheck::Unknown,
        }
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
    /// The login throttle (failures per account and per client address).
    pub logins: crate::accounts::Logins,
    recent: Mutex<Recent>,
    back_links: BackLinks,
    /// New alerts at or above this urgency are queued for the duty
    /// officers with their report (`crate::notify`), and the worker woken.
    notify: Option<(vitalcore_intake::Urgency, Arc<crate::notify::Wake>)>,
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
            .with_reference_space(store.reference_space()?)
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
            logins: crate::accounts::Logins::default(),
            recent: Mutex::new(Recent::default()),
            notify: None,
        };
        reports.prime_recent(now)?;
        Ok(reports)
    }

    /// Queues a notification with every new alert at or above `lowest`
    /// (in the report's transaction) and wakes the worker.
    pub fn with_notifications(mut self, lowest: vitalcore_intake::Urgency, wake: Arc<crate::notify::Wake>) -> Reports {
        self.notify = Some((lowest, wake));
        self
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

    /// Every intake channel and whether it is open, for the start-up message.
    pub fn channels(&self) -> Vec<ChannelStatus> {
        let c = &self.config;
        let sms = |name, route, secret: &Option<SecretString>, how_open: String, how_to_open: &str| {
            let (open, state) = match (secret, self.key_configured) {
                (None, _) => (false, format!("closed (no {} configured: {how_to_open})", secret_name(name))),
                (Some(_), false) => {
                    (false, "closed (no contact key to seal the sender's number: pass --key-file FILE)".to_string())
                }
                (Some(_), true) => (true, format!("open ({how_open})")),
            };
            ChannelStatus { name, route, open, state }
        };
        let signed_url = match &c.public_url {
            Some(u) => format!("{}/sms/twilio", u.trim_end_matches('/')),
            None => "http://<Host header>/sms/twilio; set public_url if Twilio calls an https address".to_string(),
        };
        vec![
            ChannelStatus {
                name: "web form",
                route: "/report",
                open: true,
                state: if c.require_login { "open to signed-in users only" } else { "open" }.to_string(),
            },
            ChannelStatus { name: "partner API", route: "/api/v1/reports", open: true, state: "token required".into() },
            sms(
                "SMS Twilio",
                "/sms/twilio",
                &c.twilio_auth_token,
                format!("X-Twilio-Signature required, checked for {signed_url}"),
                TWILIO_TOKEN_HOW,
            ),
            sms(
                "SMS RapidPro",
                "/sms/rapidpro",
                &c.rapidpro_secret,
                "shared secret required as `Authorization: Token <secret>`".to_string(),
                RAPIDPRO_SECRET_HOW,
            ),
        ]
    }

    /// Validates, reads, places, links and stores a draft; returns the
    /// stored report. Nothing is stored when the draft is invalid.
    ///
    /// An SMS is stored once per gateway message id (its `source_id`): when
    /// the gateway delivers the same message again (a retry, or a replayed
    /// request) the report stored the first time is returned and nothing
    /// new is stored, also when two deliveries race.
    pub fn submit(&self, draft: &ReportDraft, channel: Channel, now: Timestamp) -> Result<Report, SubmitError> {
        let has_contact = draft.contact.as_ref().is_some_and(|c| !c.expose_secret().trim().is_empty());
        if has_contact && !self.key_configured {
            return Err(InvalidReport { errors: vec![Reports::no_key_error()] }.into());
        }
        if let Some(first) = self.stored_sms(draft, &channel)? {
            return Ok(first);
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
            let notes = match &self.notify {
                Some((lowest, _)) => crate::notify::alert_notifications(&report, *lowest),
                None => Vec::new(),
            };
            let stored = if notes.is_empty() {
                self.store.insert_report(&report)
            } else {
                self.store.insert_report_notifying(&report, &notes)
            };
            match stored {
                Ok(()) => {
                    if let Some((_, wake)) = &self.notify
                        && !notes.is_empty()
                    {
                        wake.wake();
                    }
                    break;
                }
                Err(StoreError::Conflict(why)) => {
                    if let Some(first) = self.stored_sms(draft, &report.channel)? {
                        // Another delivery of the same message won the race.
                        return Ok(first);
                    }
                    if attempts == 5 {
                        return Err(StoreError::Conflict(why).into());
                    }
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

    /// The report already stored for an SMS with a gateway message id.
    fn stored_sms(&self, draft: &ReportDraft, channel: &Channel) -> Result<Option<Report>, StoreError> {
        let Channel::Sms { gateway } = channel else { return Ok(None) };
        let Some(id) = draft.source_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) else { return Ok(None) };
        self.store.sms_report(gateway, id)
    }

    /// Links likely duplicates for a batch about to be stored, in time
    /// order, each against the recent reports of its area and the batch rows
    /// before it, with [`link_rows`] (the KoBo import's linking) and the
    /// recent reports this service keeps. Links back to reports already
    /// stored are written by the worker; links between rows of the batch are
    /// set on both rows here. The batch is remembered for later look-ups.
    pub fn link_batch(&self, batch: &mut [Report]) {
        let recent: Vec<Candidate> = {
            let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.by_area.values().flatten().chain(&recent.unplaced_points).cloned().collect()
        };
        let back = link_rows(batch, &recent, &self.duplicate_rules);
        self.remember(batch);
        let stored_backs: LinkBatch =
            back.into_iter().flat_map(|(on, links)| links.into_iter().map(move |l| (on.clone(), l))).collect();
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

/// Links likely duplicates among `rows` (a batch about to be stored) and
/// with `stored` (reports already stored, e.g. those received in the last
/// window), with the bounded look-up of a single submission: in time order,
/// each row against the newest earlier reports of its area, at most
/// [`MAX_LINKS`] links each, mirrored on the other row while it has fewer
/// (see [`link_import`]). Sets each row's links and returns the links to add
/// to stored reports, per report (in reference order).
pub fn link_rows(
    rows: &mut [Report],
    stored: &[Candidate],
    rules: &DuplicateRules,
) -> Vec<(Reference, Vec<DuplicateLink>)> {
    let candidates: Vec<Candidate> = rows.iter().map(Candidate::of).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (links, back) = link_import(&candidates, stored, rules, MAX_LINKS, threads);
    for (row, found) in rows.iter_mut().zip(links) {
        row.duplicates = found;
    }
    let mut by_report: BTreeMap<Reference, Vec<DuplicateLink>> = BTreeMap::new();
    for (on, link) in back {
        by_report.entry(on).or_default().push(link);
    }
    by_report.into_iter().collect()
}

fn secret_name(channel: &str) -> &'static str {
    if channel.contains("Twilio") { "auth token" } else { "shared secret" }
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
            // Not a loaded area: kept as the admin-1 code only when it has a
            // P-code's shape (a report stored before intake checked P-codes
            // must not carry `../../etc/passwd<script>` into forecasts).
            None if is_pcode(pcode) => place.admin1_pcode = Some(pcode.clone()),
            None => {}
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

#[cfg(test)]
mod tests {
    use super::*;
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
    fn an_area_pcode_that_is_not_a_loaded_area_is_refused_and_nothing_stored() {
        let store = Arc::new(MemoryStore::new());
        let r = reports(store.clone(), false);
        let now: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        for bad in ["CF99", "../../etc/passwd<script>", "=HYPERLINK(\"http://x.example\")"] {
            let draft = ReportDraft { text: "Shots".into(), area_pcode: Some(bad.into()), ..ReportDraft::default() };
            match r.submit(&draft, Channel::Api { partner: "p".into() }, now) {
                Err(SubmitError::Invalid(e)) => assert!(e.has("area_pcode"), "{e}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(store.reports(&ReportFilter::default()).unwrap().is_empty());
        let draft = ReportDraft { text: "Shots".into(), area_pcode: Some("cf32".into()), ..ReportDraft::default() };
        let ok = r.submit(&draft, Channel::Cli, now).unwrap();
        assert_eq!(ok.place.area_pcode.as_deref(), Some("CF32"));
    }

    #[test]
    fn a_stored_pcode_of_no_pcode_shape_never_becomes_a_unit_of_the_analyses() {
        let intake = Intake::new(ContactKey::from_bytes([1; 32]), CategoryMap::built_in());
        let now: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        let mut report =
            intake.accept(&ReportDraft { text: "x".into(), ..ReportDraft::default() }, Channel::Cli, now).unwrap();
        report.place.area_pcode = Some("../../etc/passwd<script>".into()); // as stored before the check
        let areas = AreaIndex::new(&[]).unwrap();
        let events = community_events(std::slice::from_ref(&report), &areas);
        assert_eq!(events[0].place.admin1_pcode, None);
        report.place.area_pcode = Some("CF99".into());
        let events = community_events(&[report], &areas);
        assert_eq!(events[0].place.admin1_pcode.as_deref(), Some("CF99"));
    }

    #[test]
    fn sms_channels_are_closed_without_their_secret_or_the_contact_key() {
        let status = |r: &Reports, name: &str| r.channels().into_iter().find(|c| c.name == name).unwrap();
        let closed = reports(Arc::new(MemoryStore::new()), true);
        for name in ["SMS Twilio", "SMS RapidPro"] {
            assert!(!status(&closed, name).open, "{}", status(&closed, name));
        }
        assert!(status(&closed, "SMS Twilio").to_string().contains("VITALCORE_TWILIO_AUTH_TOKEN"));
        assert!(status(&closed, "SMS RapidPro").to_string().contains("no shared secret configured"));
        assert_eq!(status(&closed, "web form").state, "open");
        assert_eq!(status(&closed, "partner API").state, "token required");
        let mut open = reports(Arc::new(MemoryStore::new()), true);
        open.config.twilio_auth_token = Some("t".to_string().into());
        open.config.rapidpro_secret = Some("s".repeat(16).into());
        open.config.public_url = Some("https://alerts.example.org/".into());
        assert!(status(&open, "SMS RapidPro").open);
        assert_eq!(
            status(&open, "SMS Twilio").to_string(),
            "SMS Twilio (/sms/twilio): open (X-Twilio-Signature required, checked for \
             https://alerts.example.org/sms/twilio)"
        );
        let mut no_key = reports(Arc::new(MemoryStore::new()), false);
        no_key.config = open.config.clone();
        assert!(!status(&no_key, "SMS Twilio").open);
        assert!(status(&no_key, "SMS RapidPro").state.contains("no contact key"));
    }
}
