use crate::fixture;
use vitalcore_import::{AcledSchema, Format, ImportError, detect_format};

#[test]
fn every_format_is_told_from_its_content() {
    let cases = [
        ("ucdp_ged_sample.csv", Format::UcdpCsv),
        ("ucdp_ged_car.geojson", Format::UcdpGeojson),
        ("acled_2016_synthetic.csv", Format::Acled(AcledSchema::Upper2016)),
        ("acled_2018_synthetic.csv", Format::Acled(AcledSchema::Lower2018)),
        ("acled_current_synthetic.csv", Format::Acled(AcledSchema::Current)),
        ("hxl_health_zone_synthetic.csv", Format::Hxl),
        ("libhxl/input-valid.csv", Format::Hxl),
        ("libhxl/input-valid.tsv", Format::Hxl),
        ("libhxl/input-valid.ssv", Format::Hxl),
        ("libhxl/input-valid-latin1.csv", Format::Hxl),
        ("libhxl/input-valid-csv.zip", Format::Hxl),
        ("libhxl/input-multiple-headers.csv", Format::Hxl),
        ("caf_adm1_simplified.geojson", Format::Boundaries),
    ];
    for (file, expected) in cases {
        assert_eq!(detect_format(&fixture(file)).unwrap(), expected, "{file}");
    }
}

#[test]
fn the_extension_does_not_decide() {
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("events.geojson");
    std::fs::copy(fixture("acled_2018_synthetic.csv"), &renamed).unwrap();
    assert_eq!(detect_format(&renamed).unwrap(), Format::Acled(AcledSchema::Lower2018));
}

#[test]
fn an_unknown_file_is_named_with_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(&path, "name,age\nAda,36\n").unwrap();
    let err = detect_format(&path).unwrap_err();
    assert!(matches!(err, ImportError::Unrecognised { .. }));
    let msg = err.to_string();
    assert!(msg.contains("people.csv"), "{msg}");
    assert!(msg.contains("name,age"), "{msg}");
    assert!(msg.contains("UCDP") && msg.contains("ACLED") && msg.contains("HXL"), "{msg}");
}

#[test]
fn hashtags_without_hash_signs_get_a_hint() {
    let msg = detect_format(&fixture("libhxl/input-invalid.csv")).unwrap_err().to_string();
    assert!(msg.contains("without `#`"), "{msg}");
    assert!(msg.contains("row 3"), "{msg}");
    let msg = detect_format(&fixture("libhxl/input-untagged.csv")).unwrap_err().to_string();
    assert!(msg.contains("no row of HXL hashtags"), "{msg}");
}
