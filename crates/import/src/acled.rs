//! ACLED exports in the three published schemas (ACLED codebooks 2016,
//! 2017-2019 and 2023). Column names are compared lower-cased, so the
//! upper-case 2016 files read like the others; the schemas differ in which
//! columns exist (`sub_event_type` and `civilian_targeting` only in the
//! current one) and in their date spellings, which `parse_date` all reads.

use crate::error::ImportError;
use crate::eventcsv::{self, RowError, RowParser};
use crate::fields::{self, Header, field, opt};
use crate::place::Context;
use crate::source::Input;
use crate::{AcledSchema, EventsRead, Format, Progress, Sink};
use vitalcore_framework::{Event, Place, Source};

pub(crate) fn read(
    input: Input,
    schema: AcledSchema,
    ctx: &Context,
    progress: Progress,
    sink: Sink,
) -> Result<EventsRead, ImportError> {
    eventcsv::read_input(input, Format::Acled(schema), Source::Acled, ctx, progress, parser, sink)
}

struct Optional {
    sub_event_type: Option<usize>,
    actor1: Option<usize>,
    actor2: Option<usize>,
    country: Option<usize>,
    iso3: Option<usize>,
    admin1: Option<usize>,
    admin2: Option<usize>,
    location: Option<usize>,
    latitude: Option<usize>,
    longitude: Option<usize>,
    precision: Option<usize>,
    notes: Option<usize>,
    fatalities: Option<usize>,
    civilian_targeting: Option<usize>,
}

fn parser(h: &Header) -> Result<RowParser<'_>, String> {
    let [id, date, event_type] = h.require(["event_id_cnty", "event_date", "event_type"], "an ACLED export")?;
    let c = Optional {
        sub_event_type: h.get("sub_event_type"),
        actor1: h.get("actor1"),
        actor2: h.get("actor2"),
        country: h.get("country"),
        iso3: h.get("iso3"),
        admin1: h.get("admin1"),
        admin2: h.get("admin2"),
        location: h.get("location"),
        latitude: h.get("latitude"),
        longitude: h.get("longitude"),
        precision: h.get("geo_precision"),
        notes: h.get("notes"),
        fatalities: h.get("fatalities"),
        civilian_targeting: h.get("civilian_targeting"),
    };
    let tag_cache = TagCache::default();
    Ok(Box::new(move |rec, mut provenance, ctx| {
        provenance.source_id = opt(field(rec, Some(id))).ok_or_else(|| {
            RowError::new("event_id_cnty", "event_id_cnty is empty: every ACLED row needs its event id")
        })?;
        let date = fields::date("event_date", field(rec, Some(date))).map_err(|e| RowError::new("event_date", e))?;
        let event_type = opt(field(rec, Some(event_type)))
            .ok_or_else(|| RowError::new("event_type", "event_type is empty: ACLED gives every event a type"))?;
        let sub_event_type = opt(field(rec, c.sub_event_type));
        // ACLED writes 0 when no death is reported; a blank count is read as 0.
        let fatalities = fields::count("fatalities", field(rec, c.fatalities))
            .map_err(|e| RowError::new("fatalities", e))?
            .unwrap_or(0);
        let civilian_targeting = !fields::text(field(rec, c.civilian_targeting)).is_empty();
        let mut place = Place {
            country: opt(field(rec, c.country)),
            iso3: opt(field(rec, c.iso3)).filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic())),
            admin1: opt(field(rec, c.admin1)),
            admin2: opt(field(rec, c.admin2)),
            location: opt(field(rec, c.location)),
            latitude: fields::coordinate("latitude", field(rec, c.latitude), 90.0)
                .map_err(|e| RowError::new("latitude", e))?,
            longitude: fields::coordinate("longitude", field(rec, c.longitude), 180.0)
                .map_err(|e| RowError::new("longitude", e))?,
            precision: fields::whole_number("geo_precision", field(rec, c.precision))
                .map_err(|e| RowError::new("geo_precision", e))?
                .and_then(|p| u8::try_from(p).ok()),
            ..Place::default()
        };
        ctx.resolve(&mut place);
        let tags = tag_cache.get(ctx, &event_type, sub_event_type.as_deref(), civilian_targeting);
        Ok(Event {
            provenance,
            date,
            date_end: None,
            place,
            event_type,
            sub_event_type,
            actor1: opt(field(rec, c.actor1)),
            actor2: opt(field(rec, c.actor2)),
            fatalities,
            civilian_fatalities: None,
            civilian_targeting,
            notes: opt(field(rec, c.notes)),
            tags,
        })
    }))
}

/// Tags per (event type, sub-event type, civilian targeting): a file has a
/// few dozen combinations, and reading the mapping table for each row was a
/// tenth of the parse time.
#[derive(Default)]
struct TagCache(std::cell::RefCell<Vec<CachedTags>>);

/// (event_type, sub_event_type, civilian_targeting, tags)
type CachedTags = (String, Option<String>, bool, vitalcore_framework::Tags);

impl TagCache {
    fn get(&self, ctx: &Context, event_type: &str, sub: Option<&str>, targeting: bool) -> vitalcore_framework::Tags {
        let mut cache = self.0.borrow_mut();
        if let Some(hit) = cache.iter().find(|(e, s, t, _)| e == event_type && s.as_deref() == sub && *t == targeting) {
            return hit.3.clone();
        }
        let tags = ctx.framework.tag_acled(event_type, sub, targeting);
        if cache.len() < 256 {
            cache.push((event_type.to_string(), sub.map(str::to_string), targeting, tags.clone()));
        }
        tags
    }
}
