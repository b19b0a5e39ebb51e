//! Synthetic, ACLED-shaped events for the store tests and the store
//! benchmark (never real ACLED rows). Deterministic for a given seed.

use crate::ImportFile;
use jiff::civil::Date;
use vitalcore_framework::{Event, Observation, Place, Provenance, Source, Tags};

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast, good enough here.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const COUNTRIES: &[(&str, &str, &str)] = &[
    ("Central African Republic", "CAF", "CF"),
    ("Democratic Republic of Congo", "COD", "CD"),
    ("South Sudan", "SSD", "SS"),
    ("Mali", "MLI", "ML"),
];
const EVENT_TYPES: &[(&str, &str, &str)] = &[
    ("Battles", "Armed clash", "personal"),
    ("Violence against civilians", "Attack", "personal;community"),
    ("Violence against civilians", "Sexual violence", "personal"),
    ("Riots", "Mob violence", "community"),
    ("Protests", "Peaceful protest", "political"),
    ("Strategic developments", "Looting/property destruction", "economic;food"),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", "personal"),
];
const ACTORS: &[&str] = &[
    "Military Forces of the Central African Republic (2016-)",
    "Anti-Balaka",
    "UPC: Union for Peace in the Central African Republic",
    "3R: Return, Reclamation, Rehabilitation",
    "Civilians (Central African Republic)",
    "Unidentified Armed Group (Central African Republic)",
    "Rioters (Central African Republic)",
];
const WORDS: &[&str] = &[
    "armed",
    "men",
    "attacked",
    "village",
    "near",
    "the",
    "road",
    "to",
    "market",
    "killing",
    "civilians",
    "and",
    "looting",
    "cattle",
    "\"ex-Seleka\"",
    "elements,",
    "reportedly",
    "burned",
    "houses;",
    "displaced",
];

pub fn file(path: &str, rows: usize) -> ImportFile {
    ImportFile {
        path: path.to_string(),
        sha256: format!("{:064x}", rows),
        format: "acled-current".to_string(),
        rows_read: rows as u64,
        rows_rejected: 0,
    }
}

/// `n` distinct events (ids `SYN1`, `SYN2`, ...), dated 2013-2020.
pub fn events(n: usize, seed: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    (0..n).map(|i| event(&mut rng, i)).collect()
}

fn event(rng: &mut Rng, i: usize) -> Event {
    let (country, iso3, prefix) = COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize];
    let (event_type, sub_event_type, dimensions) = EVENT_TYPES[rng.below(EVENT_TYPES.len() as u64) as usize];
    let date = Date::new(2013 + rng.below(8) as i16, 1 + rng.below(12) as i8, 1 + rng.below(28) as i8).unwrap();
    let admin1 = 1 + rng.below(16);
    let admin2 = 1 + rng.below(8);
    let civilians = event_type == "Violence against civilians";
    let fatalities = if rng.below(3) == 0 { rng.below(40) as u32 } else { 0 };
    let n_words = 12 + rng.below(20);
    let notes: Vec<&str> = (0..n_words).map(|_| rng.pick(WORDS)).collect();
    Event {
        provenance: Provenance {
            source: Source::Acled,
            source_id: format!("SYN{}", i + 1),
            file: "synthetic-acled.csv".to_string(),
            line: i as u64 + 2,
        },
        date,
        date_end: None,
        place: Place {
            country: Some(country.to_string()),
            iso3: Some(iso3.to_string()),
            admin1: Some(format!("Province {admin1}")),
            admin2: Some(format!("District {admin1}.{admin2}")),
            location: Some(format!("Locality {}", rng.below(5000))),
            latitude: Some(-5.0 + rng.unit() * 20.0),
            longitude: Some(10.0 + rng.unit() * 25.0),
            precision: Some(1 + rng.below(3) as u8),
            admin1_pcode: Some(format!("{prefix}{admin1:02}")),
            admin2_pcode: Some(format!("{prefix}{admin1:02}{admin2:02}")),
        },
        event_type: event_type.to_string(),
        sub_event_type: Some(sub_event_type.to_string()),
        actor1: Some(rng.pick(ACTORS).to_string()),
        actor2: (rng.below(2) == 0).then(|| rng.pick(ACTORS).to_string()),
        fatalities,
        civilian_fatalities: civilians.then_some(fatalities),
        civilian_targeting: civilians,
        notes: Some(notes.join(" ")),
        tags: Tags {
            dimensions: dimensions.split(';').map(str::to_owned).collect(),
            themes: if civilians { vec!["protection-of-civilians".to_string()] } else { Vec::new() },
            severity: if fatalities > 0 { 3 } else { 1 },
            rule: format!("acled:{event_type}/{sub_event_type}"),
        },
    }
}

/// A small hand-made event: `id` in source ACLED, on `date`, in `country`.
pub fn simple(id: &str, date: &str, country: &str, fatalities: u32) -> Event {
    Event {
        provenance: Provenance {
            source: Source::Acled,
            source_id: id.to_string(),
            file: "hand.csv".to_string(),
            line: 2,
        },
        date: date.parse().unwrap(),
        date_end: None,
        place: Place { country: Some(country.to_string()), ..Place::default() },
        event_type: "Battles".to_string(),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities,
        civilian_fatalities: None,
        civilian_targeting: false,
        notes: None,
        tags: Tags {
            dimensions: vec!["personal".to_string()],
            themes: Vec::new(),
            severity: 2,
            rule: "test".to_string(),
        },
    }
}

/// An HXL-style observation row.
pub fn observation(id: &str, zone: &str, cases: &str) -> Observation {
    Observation {
        provenance: Provenance {
            source: Source::Hxl,
            source_id: id.to_string(),
            file: "ebola.csv".to_string(),
            line: 3,
        },
        date: Some(Date::constant(2019, 6, 2)),
        place: Place {
            country: Some("Democratic Republic of Congo".to_string()),
            admin2: Some(zone.to_string()),
            ..Place::default()
        },
        values: vec![
            ("#adm2+name".to_string(), zone.to_string()),
            ("#affected+infected+confirmed".to_string(), cases.to_string()),
        ],
        tags: Tags {
            dimensions: vec!["health".to_string()],
            themes: Vec::new(),
            severity: 2,
            rule: "hxl:#affected".to_string(),
        },
    }
}
