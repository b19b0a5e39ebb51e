use crate::{fixture, framework, no_progress};
use vitalcore_framework::Source;
use vitalcore_import::{HxlTable, read_observations};

#[test]
fn the_valid_libhxl_table_reads_with_its_headers_tags_and_rows() {
    let t = HxlTable::read(&fixture("libhxl/input-valid.csv")).unwrap();
    // Expected values from libhxl-python's own test (tests/test_io.py, TestParser).
    let tags: Vec<String> = t.tags.iter().map(|t| t.hashtag.clone()).collect();
    assert_eq!(tags, ["#sector", "#subsector", "#org", "#targeted", "#targeted", "#country", "#adm1", "#date"]);
    let attrs: Vec<Vec<String>> = t.tags.iter().map(|t| t.attributes.clone()).collect();
    assert_eq!(attrs[0], ["es"]);
    assert_eq!(attrs[3], ["f"]);
    assert_eq!(attrs[4], ["m"]);
    assert_eq!(attrs[7], ["reported"]);
    assert_eq!(t.headers[0], "Sector/Cluster");
    assert_eq!(t.headers[5], "País");
    assert_eq!(t.columns, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(t.rows.len(), 4);
    assert_eq!(
        t.rows[2].values,
        ["Educación", "Formación de enseñadores", "UNICEF", "250", "300", "Colombia", "Chocó", ""]
    );
    assert_eq!(t.hashtag_line, 3);
    assert_eq!(t.rows[0].line, 4);
}

#[test]
fn csv_tsv_semicolon_latin1_and_zip_give_the_same_rows() {
    let reference = HxlTable::read(&fixture("libhxl/input-valid.csv")).unwrap();
    let values = |t: &HxlTable| t.rows.iter().map(|r| r.values.clone()).collect::<Vec<_>>();
    for file in ["input-valid.tsv", "input-valid.ssv", "input-valid-latin1.csv"] {
        let t = HxlTable::read(&fixture(&format!("libhxl/{file}"))).unwrap();
        assert_eq!(values(&t), values(&reference), "{file}");
        assert_eq!(t.tags, reference.tags, "{file}");
    }
    let fw = framework();
    let zipped = read_observations(&fixture("libhxl/input-valid-csv.zip"), &fw, None, &no_progress).unwrap();
    assert_eq!((zipped.observations.len(), zipped.rejects.len()), (4, 0));
    assert_eq!(zipped.observations[0].place.country.as_deref(), Some("Panamá"));
}

#[test]
fn libhxl_edge_cases_read_as_the_reference_library_reads_them() {
    // A value spanning three lines.
    let t = HxlTable::read(&fixture("libhxl/input-multiline.csv")).unwrap();
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0].values[0], "Line 1\nLine 2\nLine 3");
    // Two header rows above the hashtags; an untagged column in between.
    let t = HxlTable::read(&fixture("libhxl/input-multiple-headers.csv")).unwrap();
    assert_eq!(t.headers, ["Org", "Province", "Number affected"]);
    assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(t.rows[0].values, ["Org X", "Coast", "100"]);
    // "Imperfect hashtag row should still work" (libhxl test_fuzzy): the
    // cells `country` and `adm1` lack `#` and are ignored.
    let t = HxlTable::read(&fixture("libhxl/input-fuzzy.csv")).unwrap();
    assert_eq!(t.tags.len(), 5);
    assert_eq!(t.rows.len(), 4);
    // Spaces after commas in the hashtag row.
    let t = HxlTable::read(&fixture("libhxl/taxonomy.csv")).unwrap();
    assert_eq!(t.tags.iter().map(ToString::to_string).collect::<Vec<_>>(), ["#adm1+name", "#adm1+code"]);
}

#[test]
fn tables_without_a_hashtag_row_are_refused_clearly() {
    for file in ["input-invalid.csv", "input-untagged.csv"] {
        let err = HxlTable::read(&fixture(&format!("libhxl/{file}"))).unwrap_err().to_string();
        assert!(err.contains(file) && err.contains("no row of HXL hashtags"), "{err}");
    }
}

#[test]
fn observations_carry_values_place_date_and_tags() {
    let fw = framework();
    let p = read_observations(&fixture("hxl_health_zone_synthetic.csv"), &fw, None, &no_progress).unwrap();
    assert_eq!((p.rows_read, p.observations.len(), p.rejects.len()), (3, 3, 0));
    let o = &p.observations[0];
    assert_eq!(o.provenance.source, Source::Hxl);
    assert_eq!(o.provenance.line, 3);
    assert_eq!(o.date.map(|d| d.to_string()).as_deref(), Some("2018-11-25"));
    assert_eq!(o.place.iso3.as_deref(), Some("COD"));
    assert_eq!(o.place.admin1.as_deref(), Some("North Kivu"));
    assert_eq!(o.place.admin2.as_deref(), Some("Zone A"));
    assert!(o.values.contains(&("#affected+infected+confirmed".to_string(), "20".to_string())));
    assert!(o.values.contains(&("#affected+infetced+probable".to_string(), "1".to_string())));
    // Confirmed infections -> health; deaths -> personal (framework HXL rules).
    assert!(o.tags.dimensions.contains(&"health".to_string()), "{:?}", o.tags);
    assert!(o.tags.dimensions.contains(&"personal".to_string()), "{:?}", o.tags);
    // All zeros: nothing to tag.
    assert!(p.observations[1].tags.dimensions.is_empty(), "{:?}", p.observations[1].tags);
    // Content ids: stable across reads, distinct across rows.
    let again = read_observations(&fixture("hxl_health_zone_synthetic.csv"), &fw, None, &no_progress).unwrap();
    let ids = |p: &vitalcore_import::ParsedObservations| {
        p.observations.iter().map(|o| o.provenance.source_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&p), ids(&again));
    assert_ne!(ids(&p)[0], ids(&p)[1]);
}

#[test]
fn hxl_dates_of_several_spellings() {
    let fw = framework();
    let p = read_observations(&fixture("libhxl/input-date.csv"), &fw, None, &no_progress).unwrap();
    assert_eq!(p.rejects.len(), 0);
    let dates: Vec<Option<String>> = p.observations.iter().map(|o| o.date.map(|d| d.to_string())).collect();
    assert_eq!(dates[0].as_deref(), Some("2015-03-01")); // 1 March 2015
    assert_eq!(dates[1], None); // 03-18-14: month first, ambiguous; kept undated
    assert_eq!(dates[2].as_deref(), Some("2015-03-01"));
    assert_eq!(dates[6].as_deref(), Some("2015-03-19")); // 19/3/15
    assert_eq!(dates[7].as_deref(), Some("2015-03-31")); // "March 31, 2015"
}

#[test]
fn a_bad_coordinate_rejects_the_row() {
    let fw = framework();
    let text = "Place,Lat,Lon,Killed\n#loc,#geo+lat,#geo+lon,#affected+killed\nA,4.36,18.55,2\nB,95,18.55,1\n";
    let p = vitalcore_import::read_observations_from_bytes("t.csv", text.as_bytes(), &fw, None, &no_progress).unwrap();
    assert_eq!(p.observations.len(), 1);
    assert_eq!(p.rejects.len(), 1);
    assert_eq!((p.rejects[0].line, p.rejects[0].field.as_str()), (4, "#geo+lat"));
    assert_eq!(p.observations[0].place.point(), Some((18.55, 4.36)));
}
