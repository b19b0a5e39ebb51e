//! The real public files of ../shared/datasets (or $VITALCORE_DATASETS):
//! every check is skipped, with a note, when the folder is absent.

use crate::boundaries::CAR_TOWNS;
use crate::{framework, no_progress};
use std::path::PathBuf;
use vitalcore_import::{AcledSchema, Format, HxlTable, read_boundaries, read_events, read_observations};
use vitalcore_spatial::AreaIndex;

fn datasets() -> Option<PathBuf> {
    let path = std::env::var_os("VITALCORE_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets"));
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("skipped: no datasets folder at {}", path.display());
        None
    }
}

/// (file, format, rows) with zero rejects expected: the counts are the ones
/// the datasets' SOURCE files state.
const EVENT_FILES: [(&str, Format, usize); 5] = [
    ("ucdp-ged-car-v23_1/GEDEvent_v23_1_CAF.geojson", Format::UcdpGeojson, 1848),
    ("ucdp-ged-sample-global/ucdpged_sample_1000.csv", Format::UcdpCsv, 1000),
    (
        "acled-all-africa-2016/ACLED-All-Africa-File_20160101-to-20160528_csv.zip",
        Format::Acled(AcledSchema::Upper2016),
        6831,
    ),
    (
        "acled-drc-2018-ebola/2018-08-01-2018-11-26-Democratic_Republic_of_Congo.csv",
        Format::Acled(AcledSchema::Lower2018),
        292,
    ),
    ("acled-burundi-battles-2007-2020/acled-battles-burundi-2007-2020.csv", Format::Acled(AcledSchema::Current), 602),
];

#[test]
fn real_event_files_import_whole() {
    let Some(root) = datasets() else { return };
    let fw = framework();
    let areas = read_boundaries(&root.join("boundaries-caf-adm1/caf_adm1_ocha_cod.geojson")).unwrap();
    assert_eq!(areas.len(), 17);
    let index = AreaIndex::new(&areas).unwrap();
    for (file, format, rows) in EVENT_FILES {
        let p = read_events(&root.join(file), &fw, Some(&index), &no_progress).unwrap();
        assert_eq!(p.format, format, "{file}");
        assert_eq!(p.rejects.len(), 0, "{file}: {:?}", p.rejects.first());
        assert_eq!((p.rows_read as usize, p.events.len()), (rows, rows), "{file}");
        let mut ids: Vec<&str> = p.events.iter().map(|e| e.provenance.source_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rows, "{file}: source ids are unique");
    }
}

#[test]
fn every_car_ucdp_event_is_placed_in_a_prefecture() {
    let Some(root) = datasets() else { return };
    let fw = framework();
    let areas = read_boundaries(&root.join("boundaries-caf-adm1/caf_adm1_ocha_cod.geojson")).unwrap();
    let index = AreaIndex::new(&areas).unwrap();
    let p = read_events(&root.join("ucdp-ged-car-v23_1/GEDEvent_v23_1_CAF.geojson"), &fw, Some(&index), &no_progress)
        .unwrap();
    let placed = p.events.iter().filter(|e| e.place.admin1_pcode.is_some()).count();
    assert_eq!(placed, p.events.len());
    // UCDP's own adm_1 names ("Ouaka prefecture") agree with the polygon
    // for the large majority of events that give one.
    let (mut named, mut agree) = (0, 0);
    for e in &p.events {
        let (Some(adm1), Some(pcode)) = (&e.place.admin1, &e.place.admin1_pcode) else {
            continue;
        };
        named += 1;
        let area = index.by_pcode(pcode).unwrap();
        let folded = vitalcore_spatial::fold_name(adm1);
        agree += usize::from(folded.contains(&vitalcore_spatial::fold_name(&area.name)));
    }
    assert!(named > 1000 && agree * 10 >= named * 9, "{agree} of {named} agree");
}

#[test]
fn known_towns_land_in_their_prefecture_on_the_full_boundaries() {
    let Some(root) = datasets() else { return };
    let areas = read_boundaries(&root.join("boundaries-caf-adm1/caf_adm1_ocha_cod.geojson")).unwrap();
    let index = AreaIndex::new(&areas).unwrap();
    for (town, lat, lon, pcode) in CAR_TOWNS {
        assert_eq!(index.locate(lon, lat).0.map(|a| a.pcode.as_str()), Some(pcode), "{town}");
    }
}

#[test]
fn real_hxl_tables_read_and_broken_ones_are_refused() {
    let Some(root) = datasets() else { return };
    let fw = framework();
    let ebola = root.join("acled-drc-2018-ebola/ebola_north_kivu_2018_moh_by_health_zone.csv");
    let p = read_observations(&ebola, &fw, None, &no_progress).unwrap();
    assert_eq!((p.observations.len(), p.rejects.len()), (1162, 0));
    let files = root.join("hxl-libhxl-tests/tests/files");
    let mut valid = 0;
    for sub in ["mock", "test_io", "test_scripts"] {
        for entry in std::fs::read_dir(files.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".csv") {
                continue;
            }
            let refused = name.contains("invalid.csv") && !name.contains("schema") || name.contains("untagged");
            match read_observations(&path, &fw, None, &no_progress) {
                Ok(p) if !refused => {
                    assert_eq!(p.rejects.len(), 0, "{name}");
                    assert!(!p.observations.is_empty(), "{name}");
                    valid += 1;
                }
                Err(e) if refused => assert!(e.to_string().contains("no row of HXL hashtags"), "{name}: {e}"),
                other => panic!("{name}: {:?}", other.map(|p| p.rows_read)),
            }
        }
    }
    assert!(valid >= 50, "{valid}");
    let t = HxlTable::read(&files.join("test_io/input-valid.hxl")).unwrap();
    assert_eq!(t.rows.len(), 4);
}
