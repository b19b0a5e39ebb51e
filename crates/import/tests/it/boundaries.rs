use crate::{fixture, framework, no_progress};
use vitalcore_import::{read_boundaries, read_boundaries_from_bytes, read_events};
use vitalcore_spatial::AreaIndex;

/// Towns of the Central African Republic (approximate coordinates of the
/// town centres, from gazetteers) and the prefecture each is the seat of or
/// lies in, with the OCHA P-codes.
pub const CAR_TOWNS: [(&str, f64, f64, &str); 14] = [
    ("Bangui", 4.3612, 18.5550, "CF71"),
    ("Bambari", 5.7679, 20.6757, "CF43"),
    ("Bria", 6.5423, 21.9863, "CF52"),
    ("Berbérati", 4.2612, 15.7922, "CF21"),
    ("Kaga-Bandoro", 6.9897, 19.1873, "CF42"),
    ("Bossangoa", 6.4926, 17.4552, "CF32"),
    ("Birao", 10.2836, 22.7882, "CF53"),
    ("Boali", 4.8000, 18.1300, "CF11"),
    ("Paoua", 7.2430, 16.4400, "CF31"),
    ("Bangassou", 4.7413, 22.8184, "CF62"),
    ("Obo", 5.3990, 26.4940, "CF63"),
    ("Bouar", 5.9340, 15.5960, "CF22"),
    ("Ndélé", 8.4109, 20.6473, "CF51"),
    ("Sibut", 5.7180, 19.0740, "CF41"),
];

#[test]
fn car_prefectures_read_with_level_parent_and_country() {
    let areas = read_boundaries(&fixture("caf_adm1_simplified.geojson")).unwrap();
    assert_eq!(areas.len(), 17);
    assert!(areas.iter().all(|a| a.level == 1 && a.parent_pcode.as_deref() == Some("CF")));
    assert!(areas.iter().all(|a| a.country.as_deref() == Some("Central African Republic")));
    let mut pcodes: Vec<&str> = areas.iter().map(|a| a.pcode.as_str()).collect();
    pcodes.sort();
    pcodes.dedup();
    assert_eq!(pcodes.len(), 17);
    let bangui = areas.iter().find(|a| a.pcode == "CF71").unwrap();
    assert_eq!(bangui.name, "Bangui");
    assert!(bangui.geometry.as_deref().unwrap().contains("\"Polygon\""));
    let haut_mbomou = areas.iter().find(|a| a.pcode == "CF63").unwrap();
    assert!(haut_mbomou.geometry.as_deref().unwrap().contains("\"MultiPolygon\""));
}

#[test]
fn level_two_is_read_from_hdx_style_property_names() {
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"ADM0_EN":"Testland","ADM0_PCODE":"TL","ADM1_EN":"North","ADM1_PCODE":"TL01","ADM2_EN":"Hill","ADM2_PCODE":"TL0101"},
       "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}"#;
    let areas = read_boundaries_from_bytes("t.geojson", text.as_bytes()).unwrap();
    assert_eq!(areas.len(), 1);
    let a = &areas[0];
    assert_eq!((a.pcode.as_str(), a.name.as_str(), a.level), ("TL0101", "Hill", 2));
    assert_eq!(a.parent_pcode.as_deref(), Some("TL01"));
    assert_eq!(a.country.as_deref(), Some("Testland"));
}

#[test]
fn a_feature_without_pcode_or_with_a_point_is_refused_with_its_place() {
    let no_pcode = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"x"},"geometry":null}]}"#;
    let err = read_boundaries_from_bytes("b.geojson", no_pcode.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("b.geojson, line 2") && err.contains("P-code"), "{err}");
    let point = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"admin1Pcode":"X1"},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#;
    let err = read_boundaries_from_bytes("p.geojson", point.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("X1") && err.contains("Polygon or MultiPolygon"), "{err}");
}

#[test]
fn known_towns_land_in_their_prefecture() {
    let areas = read_boundaries(&fixture("caf_adm1_simplified.geojson")).unwrap();
    let index = AreaIndex::new(&areas).unwrap();
    for (town, lat, lon, pcode) in CAR_TOWNS {
        let (a1, a2) = index.locate(lon, lat);
        assert_eq!(a1.map(|a| a.pcode.as_str()), Some(pcode), "{town}");
        assert!(a2.is_none());
    }
    // Far outside (Kinshasa): nothing.
    assert_eq!(index.locate(15.31, -4.32).0, None);
}

#[test]
fn prefecture_names_match_across_spellings() {
    let areas = read_boundaries(&fixture("caf_adm1_simplified.geojson")).unwrap();
    let index = AreaIndex::new(&areas).unwrap();
    for (spelling, pcode) in [
        ("Haute Kotto", "CF52"),
        ("haute-kotto", "CF52"),
        ("Ombella-M'Poko", "CF11"),
        ("OMBELLA MPOKO", "CF11"),
        ("Ouham-Pendé", "CF31"),
        ("Mambere-Kadei", "CF21"),
        ("Sangha Mbaere", "CF23"),
        ("Kemo", "CF41"),
    ] {
        assert_eq!(index.by_name(1, spelling).map(|a| a.pcode.as_str()), Some(pcode), "{spelling}");
    }
    assert!(index.by_name(1, "Kinshasa").is_none());
    assert_eq!(index.by_pcode("cf71").map(|a| a.name.as_str()), Some("Bangui"));
}

#[test]
fn events_get_pcodes_by_point_and_by_name_without_a_point() {
    let fw = framework();
    let areas = read_boundaries(&fixture("caf_adm1_simplified.geojson")).unwrap();
    let index = AreaIndex::new(&areas).unwrap();
    let p = read_events(&fixture("acled_2018_synthetic.csv"), &fw, Some(&index), &no_progress).unwrap();
    let pcodes: Vec<Option<&str>> = p.events.iter().map(|e| e.place.admin1_pcode.as_deref()).collect();
    assert_eq!(pcodes, [Some("CF42"), Some("CF32"), Some("CF53"), Some("CF11")]);
    // Without coordinates, the admin1 name is matched (accents, hyphens ignored).
    let text = std::fs::read_to_string(fixture("acled_2018_synthetic.csv")).unwrap().replace("10.2836,22.7882", ",");
    let p =
        vitalcore_import::read_events_from_bytes("x.csv", text.as_bytes(), &fw, Some(&index), &no_progress).unwrap();
    assert_eq!(p.events[2].place.point(), None);
    assert_eq!(p.events[2].place.admin1_pcode.as_deref(), Some("CF53"));
    // Without areas, nothing is placed.
    let p = read_events(&fixture("acled_2018_synthetic.csv"), &fw, None, &no_progress).unwrap();
    assert!(p.events.iter().all(|e| e.place.admin1_pcode.is_none()));
}
