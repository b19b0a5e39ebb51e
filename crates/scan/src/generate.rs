//! Synthetic ACLED-shaped event files, deterministic per seed, for
//! benchmarks and tests. Every name is invented (syllable soup); no real
//! ACLED row is copied. The shape follows the current ACLED export: the same
//! 31 columns, dates newest first, a few large countries holding most events
//! (Zipf-like weights over countries and admin1s), mostly zero fatalities
//! with a long tail, and notes with commas, `""`-escaped quotes and
//! occasional line breaks.

use std::io::{self, Write};

/// The current ACLED export header.
pub const ACLED_HEADER: [&str; 31] = [
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
];

/// How `event_date` is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// `2020-12-09`
    #[default]
    Iso,
    /// `09/12/2020`
    Dmy,
    /// `09/12/20`
    DmyShort,
    /// `09 December 2020`
    Long,
}

/// A small, fast, deterministic generator: SplitMix64 (Steele, Lea and
/// Flood 2014), enough for synthetic data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0), by Lemire's multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Cumulative Zipf weights `1 / rank^s` for drawing skewed indexes.
struct Skewed(Vec<f64>);

impl Skewed {
    fn zipf(n: usize, s: f64) -> Skewed {
        let mut total = 0.0;
        Skewed(
            (1..=n)
                .map(|k| {
                    total += 1.0 / (k as f64).powf(s);
                    total
                })
                .collect(),
        )
    }
    fn draw(&self, rng: &mut Rng) -> usize {
        let x = rng.unit() * self.0.last().copied().unwrap_or(0.0);
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }
}

const SYLLABLES: [&str; 40] = [
    "ka", "ru", "mbi", "to", "se", "la", "ngo", "ba", "di", "ré", "mo", "ya", "zi", "nda", "ke", "lu", "wa", "fa",
    "gé", "sou", "ti", "ma", "na", "bo", "ko", "ou", "ri", "sa", "nyi", "tem", "vor", "al", "in", "dor", "esh", "kha",
    "mir", "tá", "gul", "bé",
];

fn invented_name(rng: &mut Rng, min: u64, max: u64) -> String {
    let n = min + rng.below(max - min + 1);
    let raw: String = (0..n).map(|_| *rng.pick(&SYLLABLES)).collect();
    let mut chars = raw.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Invents `n` distinct names, some with the prefixes and suffixes common in
/// admin names (`Haut-`, `-Est`, `North `).
fn distinct_names(rng: &mut Rng, n: usize, decorate: bool) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(n);
    while names.len() < n {
        let mut name = invented_name(rng, 2, 4);
        if decorate {
            match rng.below(12) {
                0 => name = format!("Haut-{name}"),
                1 => name = format!("{name}-Est"),
                2 => name = format!("North {name}"),
                _ => {}
            }
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

struct Admin1 {
    name: String,
    admin2: Vec<(String, Vec<String>)>,
}

struct Country {
    name: String,
    code: String,
    iso: u32,
    region: &'static str,
    lat: f64,
    lon: f64,
    admin1: Vec<Admin1>,
    admin1_weights: Skewed,
    groups: Vec<String>,
    outlets: Vec<String>,
}

const REGIONS: [&str; 10] = [
    "Eastern Africa",
    "Middle Africa",
    "Western Africa",
    "Northern Africa",
    "Southern Africa",
    "Middle East",
    "South Asia",
    "Southeast Asia",
    "South America",
    "Caucasus and Central Asia",
];

fn invent_country(rng: &mut Rng, name: String, index: usize) -> Country {
    let code: String = name.chars().filter(char::is_ascii_alphabetic).take(3).collect::<String>().to_ascii_uppercase();
    let admin1_count = 4 + rng.below(27) as usize;
    let admin1 = distinct_names(rng, admin1_count, true)
        .into_iter()
        .map(|name| {
            let count = 2 + rng.below(9) as usize;
            let admin2 = distinct_names(rng, count, false)
                .into_iter()
                .map(|a2| {
                    let places = 1 + rng.below(6) as usize;
                    (a2, distinct_names(rng, places, false))
                })
                .collect();
            Admin1 { name, admin2 }
        })
        .collect();
    let groups = (0..3 + rng.below(6)).map(|_| armed_group(rng)).collect();
    let outlets = (0..4 + rng.below(6)).map(|_| outlet(rng)).collect();
    Country {
        code: format!("{code:X<3}"),
        iso: 100 + index as u32 * 7,
        region: rng.pick::<&str>(&REGIONS),
        lat: rng.unit() * 60.0 - 30.0,
        lon: rng.unit() * 120.0 - 20.0,
        admin1_weights: Skewed::zipf(admin1_count, 0.9),
        name,
        admin1,
        groups,
        outlets,
    }
}

fn armed_group(rng: &mut Rng) -> String {
    let word = invented_name(rng, 2, 3);
    let initials: String =
        word.chars().filter(char::is_ascii_alphabetic).take(2).collect::<String>().to_ascii_uppercase();
    let kind =
        rng.pick(&["Liberation Front", "Patriotic Movement", "Defence Militia", "Union for Justice", "Popular Army"]);
    format!("{initials}{}: {word} {kind}", &kind[..1])
}

fn outlet(rng: &mut Rng) -> String {
    let name = invented_name(rng, 2, 3);
    match rng.below(4) {
        0 => format!("Radio {name}"),
        1 => format!("{name} Times"),
        2 => format!("{name} Info"),
        _ => format!("Voice of {name}"),
    }
}

/// ACLED event types with sub-event types, disorder type, chance that
/// nobody dies, and relative frequency (per mille).
const EVENT_TYPES: [(&str, &str, &[&str], f64, u64); 6] = [
    (
        "Battles",
        "Political violence",
        &["Armed clash", "Government regains territory", "Non-state actor overtakes territory"],
        0.45,
        220,
    ),
    (
        "Violence against civilians",
        "Political violence",
        &["Attack", "Abduction/forced disappearance", "Sexual violence"],
        0.5,
        180,
    ),
    (
        "Explosions/Remote violence",
        "Political violence",
        &[
            "Shelling/artillery/missile attack",
            "Air/drone strike",
            "Remote explosive/landmine/IED",
            "Grenade",
            "Suicide bomb",
        ],
        0.55,
        120,
    ),
    (
        "Protests",
        "Demonstrations",
        &["Peaceful protest", "Protest with intervention", "Excessive force against protesters"],
        0.995,
        300,
    ),
    ("Riots", "Demonstrations", &["Violent demonstration", "Mob violence"], 0.85, 110),
    (
        "Strategic developments",
        "Strategic developments",
        &[
            "Arrests",
            "Looting/property destruction",
            "Agreement",
            "Change to group/activity",
            "Headquarters or base established",
            "Other",
        ],
        0.98,
        70,
    ),
];

/// The shape of the names in a synthetic file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Shape {
    /// 60 countries of 4-30 admin-1 areas each, Zipf-weighted.
    #[default]
    Standard,
    /// Admin-1 names with very high cardinality: row `i` gets admin-1 name
    /// number `i % names` (`"Kamoru 123456"`), each number always in the same
    /// country, so a file of `rows >= names` rows has exactly `names`
    /// distinct country/admin-1 pairs (every row distinct when `names >= rows`).
    DistinctAdmin1 { names: u64 },
}

/// Configuration of a synthetic file.
#[derive(Clone, Debug)]
pub struct AcledConfig {
    pub rows: u64,
    pub seed: u64,
    pub date_format: DateFormat,
    pub shape: Shape,
}

/// Writes a synthetic ACLED export with a header and `config.rows` rows.
pub fn write_acled<W: Write>(config: &AcledConfig, out: W) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 20, out);
    let mut rng = Rng::new(config.seed);
    let country_names = distinct_names(&mut rng, 60, false);
    let mut countries: Vec<Country> =
        country_names.into_iter().enumerate().map(|(i, n)| invent_country(&mut rng, n, i)).collect();
    // Event ids are the code and a serial: codes must differ.
    let mut codes = std::collections::HashSet::new();
    for (i, c) in countries.iter_mut().enumerate() {
        if !codes.insert(c.code.clone()) {
            c.code = format!("{}{}", &c.code[..1], i + 10);
            codes.insert(c.code.clone());
        }
    }
    let country_weights = Skewed::zipf(countries.len(), 1.1);
    let type_weights: Vec<u64> = EVENT_TYPES.iter().map(|t| t.4).collect();
    let mut counters = vec![1000u64; countries.len()];
    let mut line = String::with_capacity(2048);
    out.write_all(ACLED_HEADER.join(",").as_bytes())?;
    out.write_all(b"\n")?;
    for i in 0..config.rows {
        // In the high-cardinality shape, name number k always has the same country and admin-1 root.
        let (c, distinct) = match config.shape {
            Shape::Standard => (country_weights.draw(&mut rng), None),
            Shape::DistinctAdmin1 { names } => {
                let k = i % names.max(1);
                let mut by_name = Rng::new(config.seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let c = country_weights.draw(&mut by_name);
                (c, Some((k, countries[c].admin1_weights.draw(&mut by_name))))
            }
        };
        counters[c] += 1 + rng.below(3);
        let day = day_of_row(i, config.rows);
        line.clear();
        let event = Written { serial: counters[c], day, format: config.date_format, distinct };
        write_event(&mut rng, &mut countries[c], &event, &type_weights, &mut line);
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// Days since 1970-01-01, newest first: 2024-12-31 back to 1997-01-01, with
/// more events per day in recent years (ACLED's coverage grew over time).
fn day_of_row(i: u64, rows: u64) -> i64 {
    let newest = days_from_civil(2024, 12, 31);
    let oldest = days_from_civil(1997, 1, 1);
    let t = i as f64 / rows.max(1) as f64;
    newest - ((newest - oldest) as f64 * t * t) as i64
}

fn draw_weighted(rng: &mut Rng, weights: &[u64]) -> usize {
    let mut x = rng.below(weights.iter().sum());
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Mostly zero; otherwise a heavy tail (1, 2, 3 common; hundreds rare).
fn draw_fatalities(rng: &mut Rng, zero_chance: f64) -> u64 {
    if rng.chance(zero_chance) {
        return 0;
    }
    let pareto = 1.0 / (1.0 - rng.unit()).powf(1.0 / 1.2);
    (pareto as u64).min(1500)
}

/// What one row is made of besides the random draws.
struct Written {
    serial: u64,
    day: i64,
    format: DateFormat,
    /// High-cardinality shape: the admin-1 name number and root.
    distinct: Option<(u64, usize)>,
}

fn write_event(rng: &mut Rng, c: &mut Country, event: &Written, type_weights: &[u64], line: &mut String) {
    use std::fmt::Write as _;
    let (serial, day, format) = (event.serial, event.day, event.format);
    let (etype, disorder, subs, zero_chance, _) = EVENT_TYPES[draw_weighted(rng, type_weights)];
    let sub = *rng.pick(subs);
    let a1 = &c.admin1[match event.distinct {
        Some((_, root)) => root,
        None => c.admin1_weights.draw(rng),
    }];
    let a1_name = match event.distinct {
        Some((k, _)) => std::borrow::Cow::Owned(format!("{} {k}", a1.name)),
        None => std::borrow::Cow::Borrowed(a1.name.as_str()),
    };
    let (a2, places) = rng.pick(&a1.admin2);
    let location = rng.pick(places).clone();
    let admin3 = if rng.chance(0.4) { String::new() } else { format!("{location} Centre") };
    let (y, m, d) = civil_from_days(day);
    let fatalities = draw_fatalities(rng, zero_chance);
    let (actor1, inter1, actor2, inter2) = actors(rng, c, etype);
    let civilian_targeting = if actor2.starts_with("Civilians") { "Civilian targeting" } else { "" };
    let source = if rng.chance(0.3) {
        format!("{}; {}", rng.pick(&c.outlets), rng.pick(&c.outlets))
    } else {
        rng.pick(&c.outlets).clone()
    };
    let scale =
        rng.pick(&["National", "Subnational", "Local partner-National", "International", "New media", "Regional"]);
    let notes = notes(rng, (y, m, d), etype, &actor1, &actor2, &location, a2, &a1_name, fatalities);
    let tags = if etype == "Protests" {
        rng.pick(&["crowd size=no report", "crowd size=around 50", "crowd size=hundreds"]).to_string()
    } else {
        String::new()
    };
    let lat = c.lat + rng.unit() * 4.0 - 2.0;
    let lon = c.lon + rng.unit() * 4.0 - 2.0;
    let timestamp = (day + 5 + rng.below(60) as i64) * 86_400 + rng.below(86_400) as i64;
    let _ = write!(line, "{}{},{},{},{},", c.code, serial, format_date((y, m, d), format), y, 1 + rng.below(3));
    let fields: [&str; 3] = [disorder, etype, sub];
    for f in fields {
        push_field(line, f);
    }
    push_field(line, &actor1);
    line.push(',');
    let _ = write!(line, "{inter1},");
    push_field(line, &actor2);
    line.push(',');
    let _ = write!(line, "{inter2},{},", inter1 * 10 + inter2);
    push_field(line, civilian_targeting);
    let _ = write!(line, "{},", c.iso);
    for f in [c.region, &c.name, &a1_name, a2, &admin3, &location] {
        push_field(line, f);
    }
    let _ = write!(line, "{lat:.4},{lon:.4},{},", 1 + rng.below(3));
    push_field(line, &source);
    push_field(line, scale);
    push_field(line, &notes);
    let _ = write!(line, "{fatalities},");
    push_field(line, &tags);
    let _ = writeln!(line, "{timestamp}");
}

fn actors(rng: &mut Rng, c: &Country, etype: &str) -> (String, u32, String, u32) {
    let military = format!("Military Forces of {} ({}-)", c.name, 1990 + rng.below(30));
    let group = rng.pick(&c.groups).clone();
    let civilians = format!("Civilians ({})", c.name);
    match etype {
        "Protests" => (
            format!("Protesters ({})", c.name),
            6,
            if rng.chance(0.2) { format!("Police Forces of {}", c.name) } else { String::new() },
            if rng.chance(0.2) { 1 } else { 0 },
        ),
        "Riots" => (format!("Rioters ({})", c.name), 5, civilians, 7),
        "Violence against civilians" => {
            (if rng.chance(0.5) { group } else { format!("Unidentified Armed Group ({})", c.name) }, 3, civilians, 7)
        }
        _ if rng.chance(0.5) => (military, 1, group, 2),
        _ => (group, 2, military, 1),
    }
}

#[allow(clippy::too_many_arguments)]
fn notes(
    rng: &mut Rng,
    ymd: (i64, u32, u32),
    etype: &str,
    actor1: &str,
    actor2: &str,
    location: &str,
    admin2: &str,
    admin1: &str,
    fatalities: u64,
) -> String {
    let date = format_date(ymd, DateFormat::Long);
    let date = date.trim_start_matches('0');
    let place = format!("{location} ({admin2}, {admin1})");
    let mut s = match etype {
        "Battles" => format!("On {date}, {actor1} clashed with {actor2} in {place}, near the market road."),
        "Protests" => {
            format!("On {date}, residents gathered in {place} to protest over water, fuel prices and unpaid salaries.")
        }
        "Riots" => {
            format!("On {date}, a crowd attacked a man accused of theft in {place}, burning his motorbike and shop.")
        }
        "Violence against civilians" => {
            format!("On {date}, {actor1} attacked a village in {place}, looting houses, cattle and grain.")
        }
        "Explosions/Remote violence" => {
            format!("On {date}, an explosive device went off on the road between {location} and {admin2}, {admin1}.")
        }
        _ => format!("On {date}, {actor1} set up a checkpoint in {place}, taxing traders and travellers."),
    };
    if fatalities > 0 {
        s.push_str(&format!(" {fatalities} people were reported killed, according to local sources."));
    } else if rng.chance(0.3) {
        s.push_str(" No casualties were reported.");
    }
    if rng.chance(0.25) {
        let quote = rng.pick(&[
            "we will not leave our land",
            "the road is closed, nobody passes",
            "they came at night",
            "enough is enough",
        ]);
        s.push_str(&format!(" A local leader said \"{quote},\" adding that \"the army arrived late\"."));
    }
    if rng.chance(0.06) {
        s.push_str(rng.pick::<&str>(&[
            "\n[Updated: fatality figure revised after new reports.]",
            "\r\nSource: community focal point, by phone.",
            "\n\nTranslated from the original report.",
        ]));
    }
    if rng.chance(0.1) {
        s.push_str(" Property was damaged, including shops, a school, and two vehicles.");
    }
    s
}

/// Appends `value` as a CSV field followed by a comma, quoting it (RFC 4180)
/// when it holds a comma, quote or line break.
fn push_field(line: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&value.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(value);
    }
    line.push(',');
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn format_date((y, m, d): (i64, u32, u32), format: DateFormat) -> String {
    match format {
        DateFormat::Iso => format!("{y:04}-{m:02}-{d:02}"),
        DateFormat::Dmy => format!("{d:02}/{m:02}/{y:04}"),
        DateFormat::DmyShort => format!("{d:02}/{m:02}/{:02}", y % 100),
        DateFormat::Long => format!("{d:02} {} {y:04}", MONTHS[m as usize - 1]),
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms").
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of days since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip_and_match_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(days_from_civil(2020, 2, 29)), (2020, 2, 29));
        for z in (-1000..20_000).step_by(37) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn dates_are_written_in_each_format() {
        let ymd = (2020, 12, 9);
        assert_eq!(format_date(ymd, DateFormat::Iso), "2020-12-09");
        assert_eq!(format_date(ymd, DateFormat::Dmy), "09/12/2020");
        assert_eq!(format_date(ymd, DateFormat::DmyShort), "09/12/20");
        assert_eq!(format_date(ymd, DateFormat::Long), "09 December 2020");
    }
}
