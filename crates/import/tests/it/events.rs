use crate::{fixture, framework, no_progress};
use std::cell::Cell;
use vitalcore_framework::Source;
use vitalcore_import::{AcledSchema, Format, read_events};

fn ymd(d: jiff::civil::Date) -> String {
    d.to_string()
}

#[test]
fn ucdp_csv_reads_float_written_integers_and_keeps_every_field() {
    let fw = framework();
    let p = read_events(&fixture("ucdp_ged_sample.csv"), &fw, None, &no_progress).unwrap();
    assert_eq!(p.format, Format::UcdpCsv);
    assert_eq!((p.rows_read, p.events.len(), p.rejects.len()), (55, 55, 0));
    // First row of the sample, as written in the file: id 300380.0, Syria, 2013-01-03.
    let e = &p.events[0];
    assert_eq!(e.provenance.source, Source::UcdpGed);
    assert_eq!(e.provenance.source_id, "300380");
    assert_eq!(e.provenance.line, 2);
    assert_eq!(ymd(e.date), "2013-01-03");
    assert_eq!(e.date_end.map(ymd).as_deref(), Some("2013-01-03"));
    assert_eq!(e.event_type, "State-based conflict");
    assert_eq!((e.fatalities, e.civilian_fatalities), (2, Some(0)));
    assert_eq!(e.actor1.as_deref(), Some("Government of Syria"));
    assert_eq!(e.actor2.as_deref(), Some("Syrian insurgents"));
    assert_eq!(e.place.country.as_deref(), Some("Syria"));
    assert_eq!(e.place.admin1.as_deref(), Some("Idlib governorate"));
    assert_eq!(e.place.admin2.as_deref(), Some("Ariha district"));
    assert_eq!(e.place.location.as_deref(), Some("Rami village"));
    assert_eq!(e.place.point(), Some((36.558974, 35.763369)));
    assert_eq!(e.place.precision, Some(1));
    assert!(e.tags.rule.contains("type_of_violence=1"), "{}", e.tags.rule);
    assert_eq!(p.file.format, "ucdp-ged-csv");
    assert_eq!(p.file.sha256.len(), 64);
    assert_eq!((p.file.rows_read, p.file.rows_rejected), (55, 0));
}

/// The physical line of each record, found independently: the line on which
/// `<id>.0,` starts a line in the raw file. Several rows of the sample have
/// newlines inside quoted source_article fields, so record index != line.
#[test]
fn ucdp_lines_are_physical_lines_despite_quoted_newlines() {
    let fw = framework();
    let path = fixture("ucdp_ged_sample.csv");
    let raw = std::fs::read_to_string(&path).unwrap();
    let p = read_events(&path, &fw, None, &no_progress).unwrap();
    let mut differ = 0;
    for (i, e) in p.events.iter().enumerate() {
        let needle = format!("\n{}.0,", e.provenance.source_id);
        let at = raw.find(&needle).unwrap_or_else(|| panic!("{needle}"));
        let line = raw[..at].matches('\n').count() as u64 + 2;
        assert_eq!(e.provenance.line, line, "event {}", e.provenance.source_id);
        differ += usize::from(line != i as u64 + 2);
    }
    assert!(differ > 0, "the fixture should hold multi-line records");
}

#[test]
fn ucdp_geojson_takes_coordinates_from_the_geometry_and_lines_from_the_features() {
    let fw = framework();
    let p = read_events(&fixture("ucdp_ged_car.geojson"), &fw, None, &no_progress).unwrap();
    assert_eq!(p.format, Format::UcdpGeojson);
    assert_eq!((p.events.len(), p.rejects.len()), (40, 0));
    let e = &p.events[0];
    assert_eq!(e.provenance.source_id, "36210");
    // Header lines 1-5, one feature per line from line 6.
    for (i, e) in p.events.iter().enumerate() {
        assert_eq!(e.provenance.line, 6 + i as u64);
    }
    assert_eq!(e.place.point(), Some((26.486881, 5.399784)));
    assert_eq!(ymd(e.date), "2009-02-20");
    assert_eq!(e.fatalities, 3);
    assert!(p.events.iter().all(|e| e.place.country.as_deref() == Some("Central African Republic")));
    assert!(p.header.ends_with(&["latitude".to_string(), "longitude".to_string()]));
}

#[test]
fn acled_2016_upper_case_latin1_with_trailing_empty_columns() {
    let fw = framework();
    let p = read_events(&fixture("acled_2016_synthetic.csv"), &fw, None, &no_progress).unwrap();
    assert_eq!(p.format, Format::Acled(AcledSchema::Upper2016));
    assert_eq!((p.events.len(), p.rejects.len()), (4, 0));
    let dates: Vec<String> = p.events.iter().map(|e| ymd(e.date)).collect();
    assert_eq!(dates, ["2015-12-29", "2016-01-03", "2016-02-15", "2016-05-28"]);
    let e = &p.events[3];
    assert_eq!(e.provenance.source_id, "SYN4CEN");
    assert_eq!(e.place.admin1.as_deref(), Some("Mambéré-Kadéï"));
    assert_eq!(e.event_type, "Remote violence");
    assert_eq!(p.events[1].fatalities, 3);
    assert_eq!(p.events[1].event_type, "Battle-No change of territory");
    assert!(p.events[1].notes.as_deref().unwrap().contains("\"heavy\""));
    assert!(p.events[1].tags.rule.starts_with("acled Battle-No change of territory"), "{}", p.events[1].tags.rule);
    assert_eq!(p.events.iter().map(|e| e.provenance.line).collect::<Vec<_>>(), [2, 3, 4, 5]);
}

#[test]
fn acled_2018_dates_in_words_and_multi_line_notes() {
    let fw = framework();
    let p = read_events(&fixture("acled_2018_synthetic.csv"), &fw, None, &no_progress).unwrap();
    assert_eq!(p.format, Format::Acled(AcledSchema::Lower2018));
    assert_eq!((p.events.len(), p.rejects.len()), (4, 0));
    let dates: Vec<String> = p.events.iter().map(|e| ymd(e.date)).collect();
    assert_eq!(dates, ["2018-11-24", "2018-07-06", "2018-08-06", "2018-09-01"]);
    // Row 1's note spans lines 2-4, row 3's spans lines 6-9.
    assert_eq!(p.events.iter().map(|e| e.provenance.line).collect::<Vec<_>>(), [2, 5, 6, 10]);
    assert_eq!(p.events[0].notes.as_deref().unwrap().lines().count(), 3);
    assert_eq!(p.events[0].place.iso3.as_deref(), Some("CAF"));
    assert_eq!(p.events[0].sub_event_type, None);
}

#[test]
fn acled_current_schema_with_bom_crlf_and_civilian_targeting() {
    let fw = framework();
    let p = read_events(&fixture("acled_current_synthetic.csv"), &fw, None, &no_progress).unwrap();
    assert_eq!(p.format, Format::Acled(AcledSchema::Current));
    assert_eq!((p.events.len(), p.rejects.len()), (4, 0));
    let dates: Vec<String> = p.events.iter().map(|e| ymd(e.date)).collect();
    assert_eq!(dates, ["2020-12-09", "2020-12-30", "2020-11-30", "2020-12-01"]);
    let targeting: Vec<bool> = p.events.iter().map(|e| e.civilian_targeting).collect();
    assert_eq!(targeting, [false, true, false, true]);
    assert_eq!(p.events[0].provenance.source_id, "SYNC-1");
    assert_eq!(p.events[0].sub_event_type.as_deref(), Some("Armed clash"));
    assert!(p.events[1].tags.themes.iter().any(|t| t == "protection_of_civilians"), "{:?}", p.events[1].tags);
    assert!(!p.events[0].tags.themes.iter().any(|t| t == "protection_of_civilians"));
    assert_eq!(p.events[1].fatalities, 5);
    assert_eq!(p.events.iter().map(|e| e.provenance.line).collect::<Vec<_>>(), [2, 3, 4, 5]);
}

#[test]
fn progress_reaches_the_file_size() {
    let fw = framework();
    let path = fixture("acled_2018_synthetic.csv");
    let last = Cell::new(0u64);
    read_events(&path, &fw, None, &|n| last.set(n)).unwrap();
    assert_eq!(last.get(), std::fs::metadata(&path).unwrap().len());
}

#[test]
fn the_file_hash_is_the_sha256_of_its_bytes() {
    let fw = framework();
    let path = fixture("acled_current_synthetic.csv");
    let a = read_events(&path, &fw, None, &no_progress).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let b = vitalcore_import::read_events_from_bytes("copy.csv", &bytes, &fw, None, &no_progress).unwrap();
    assert_eq!(a.file.sha256, b.file.sha256);
    let mut one_more = bytes.clone();
    one_more.extend_from_slice(b"\n");
    let c = vitalcore_import::read_events_from_bytes("copy.csv", &one_more, &fw, None, &no_progress).unwrap();
    assert_ne!(a.file.sha256, c.file.sha256);
    assert_eq!(c.events.len(), a.events.len());
}

#[test]
fn events_files_refuse_other_kinds() {
    let fw = framework();
    let err = read_events(&fixture("libhxl/input-valid.csv"), &fw, None, &no_progress).unwrap_err();
    assert!(err.to_string().contains("event data"), "{err}");
}
