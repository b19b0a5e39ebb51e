use crate::{fixture, intake, ts};
use std::collections::HashSet;
use vitalcore_intake::CategoryMap;
use vitalcore_intake::kobo::{KoboError, KoboMapping, import_csv, import_xlsx};

fn mapping(text: &str) -> KoboMapping {
    KoboMapping::from_toml(text, &CategoryMap::built_in()).unwrap()
}

fn reach_mapping() -> KoboMapping {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/kobo/reach-cleaningtools.toml")).unwrap();
    mapping(&text)
}

#[test]
fn reach_excerpt_imports_rows_with_text_and_rejects_the_empty_ones() {
    // 10 real submissions: 7 answer at least one of the four text questions
    // (export rows 1, 2, 4, 6, 7, 10, 12), 3 answer none (rows 3, 5, 8).
    let now = ts("2024-01-01T00:00:00Z");
    let out = import_csv(
        &fixture("kobo/reach_excerpt.csv"),
        "reach_excerpt.csv",
        &reach_mapping(),
        &intake(),
        &HashSet::new(),
        now,
    )
    .unwrap();
    assert_eq!(out.rows, 10);
    assert_eq!(out.reports.len(), 7);
    assert_eq!(out.rejected.len(), 3);
    assert_eq!(out.rejected.iter().map(|e| e.line).collect::<Vec<_>>(), vec![4, 6, 9]);
    for e in &out.rejected {
        assert_eq!(e.field, "problems_water_main_complaint", "{e}");
        assert!(e.reason.contains("text: is empty"), "{e}");
    }
    let first = &out.reports[0];
    assert_eq!(first.text, "network_broker | خارج حدود البلدية");
    assert_eq!(first.place.name.as_deref(), Some("A2"));
    assert_eq!(first.category.as_deref(), Some("water"));
    assert_eq!(first.event_time, Some(ts("2021-07-05T00:00:00Z")));
    assert_eq!(first.received_at, ts("2021-07-05T09:34:15Z"), "from X_submission_time");
    assert_eq!(first.source_id.as_deref(), Some("dcf2753a-6ea2-40f5-b493-3527931ef96c"));
    assert_eq!(first.language.as_deref(), Some("ar"));
    assert_eq!(out.new_uuids.len(), 7);

    // Re-import with the uuids recorded: nothing new.
    let known: HashSet<String> = out.new_uuids.iter().cloned().collect();
    let again =
        import_csv(&fixture("kobo/reach_excerpt.csv"), "reach_excerpt.csv", &reach_mapping(), &intake(), &known, now)
            .unwrap();
    assert!(again.reports.is_empty());
    assert_eq!(again.already_seen.len(), 7);
    assert_eq!(again.rejected.len(), 3);
}

#[test]
fn group_paths_gps_semicolons_and_bad_rows() {
    let m = mapping(&String::from_utf8(fixture("kobo/alerts_groups.toml")).unwrap());
    let now = ts("2024-05-02T00:00:00Z");
    let out = import_csv(&fixture("kobo/alerts_groups.csv"), "alerts_groups.csv", &m, &intake(), &HashSet::new(), now)
        .unwrap();
    check_alerts_groups(&out);
}

#[test]
fn the_same_export_as_xlsx() {
    let m = mapping(&String::from_utf8(fixture("kobo/alerts_groups.toml")).unwrap());
    let now = ts("2024-05-02T00:00:00Z");
    let out =
        import_xlsx(&fixture("kobo/alerts_groups.xlsx"), "alerts_groups.xlsx", &m, &intake(), &HashSet::new(), now)
            .unwrap();
    check_alerts_groups(&out);
}

fn check_alerts_groups(out: &vitalcore_intake::kobo::KoboImport) {
    assert_eq!(out.rows, 5);
    assert_eq!(out.reports.len(), 2);
    let bouca = &out.reports[0];
    assert_eq!(bouca.text, "Hommes armés ont brûlé trois maisons au village");
    assert_eq!(bouca.place.point(), Some((6.5071, 18.2760)));
    assert_eq!(bouca.place.name.as_deref(), Some("Bouca"));
    assert_eq!(bouca.place.area_pcode.as_deref(), Some("CF32"));
    assert_eq!(bouca.urgency, Some(vitalcore_intake::Urgency::Critical));
    assert_eq!(bouca.received_at, ts("2024-05-01T07:10:00Z"));
    assert!(bouca.contact.is_some());
    assert_eq!(bouca.reporter_id, Some(crate::key().pseudonym("+23672000001")));
    assert_eq!(out.reports[1].place.point(), None);
    let rejected: Vec<(u64, &str)> = out.rejected.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(rejected, vec![(4, "incident/description"), (5, "_gps_latitude"), (6, "incident/category")]);
    assert!(out.rejected[1].reason.contains("95"), "{}", out.rejected[1]);
    assert!(out.rejected[2].reason.contains("weather"), "{}", out.rejected[2]);
}

#[test]
fn odk_instance_ids_geolocation_future_dates_and_repeats() {
    let m = mapping(&String::from_utf8(fixture("kobo/alerts_odk.toml")).unwrap());
    let now = ts("2024-05-02T00:00:00Z");
    let out =
        import_csv(&fixture("kobo/alerts_odk.csv"), "alerts_odk.csv", &m, &intake(), &HashSet::new(), now).unwrap();
    assert_eq!(out.rows, 3);
    assert_eq!(out.new_uuids, vec!["7d5e0000-0000-4000-8000-000000000001".to_string()]);
    assert_eq!(out.reports[0].place.point(), Some((8.4109, 20.6473)));
    assert_eq!(out.reports[0].tags.themes, vec!["children_and_armed_conflict".to_string()]);
    assert_eq!(out.rejected.len(), 1);
    assert_eq!((out.rejected[0].line, out.rejected[0].field.as_str()), (3, "report.when"));
    assert!(out.rejected[0].reason.contains("future"), "{}", out.rejected[0]);
    assert_eq!(out.already_seen, vec!["7d5e0000-0000-4000-8000-000000000001".to_string()], "repeated in the file");
}

#[test]
fn mapping_errors_name_the_key() {
    let cats = CategoryMap::built_in();
    let err =
        KoboMapping::from_toml("form = \"f\"\n[questions]\ntext = \"t\"\n[category_values]\nx = \"weather\"\n", &cats)
            .unwrap_err();
    assert!(err.to_string().contains("`category_values.x`"), "{err}");
    let err = KoboMapping::from_toml("form = \"f\"\n[questions]\ntext = []\n", &cats).unwrap_err();
    assert!(err.to_string().contains("`questions.text`"), "{err}");
    let m = mapping("form = \"f\"\n[questions]\ntext = \"nowhere\"\n");
    let err = import_csv(b"_uuid,text\n1,a\n", "x.csv", &m, &intake(), &HashSet::new(), ts("2024-01-01T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, KoboError::Mapping { ref key, .. } if key == "questions.text"), "{err}");
    let m = mapping("form = \"f\"\n[questions]\ntext = \"q\"\n");
    let err =
        import_csv(b"a/q,b/q,_uuid\nx,y,1\n", "x.csv", &m, &intake(), &HashSet::new(), ts("2024-01-01T00:00:00Z"))
            .unwrap_err();
    assert!(err.to_string().contains("several columns"), "{err}");
    let err = import_csv(b"q\nx\n", "x.csv", &m, &intake(), &HashSet::new(), ts("2024-01-01T00:00:00Z")).unwrap_err();
    assert!(err.to_string().contains("_uuid"), "{err}");
}

/// The GPL kobocruncher export, used in place only (never committed).
#[test]
#[ignore = "reads ../shared/datasets/kobo-unhcr-kobocruncher when present"]
fn kobocruncher_export_in_place() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/kobo-unhcr-kobocruncher/data.xlsx");
    let Ok(data) = std::fs::read(&path) else {
        eprintln!("skipped: {} not found", path.display());
        return;
    };
    // Group paths written with `/` in the mapping, `.` in the export.
    let m = mapping(
        "form = \"kobocruncher\"\n[questions]\ntext = [\"profile/occupation\", \"profile/reason\"]\nplace = \"location\"\n",
    );
    let out = import_xlsx(&data, "data.xlsx", &m, &intake(), &HashSet::new(), ts("2024-01-01T00:00:00Z")).unwrap();
    eprintln!("kobocruncher: {} rows, {} reports, {} rejected", out.rows, out.reports.len(), out.rejected.len());
    for e in &out.rejected {
        eprintln!("  {e}");
    }
    assert_eq!(out.rows, 5, "the main sheet holds 5 submissions");
    assert_eq!(out.reports.len() + out.rejected.len(), 5);
    assert!(out.reports.iter().all(|r| r.source_id.is_some() && r.place.name.is_some()));
}

#[test]
fn with_the_xlsform_answer_codes_become_labels() {
    use vitalcore_intake::xlsform::FormLabels;
    let form =
        FormLabels::from_csv(&fixture("kobo/reach_survey_excerpt.csv"), &fixture("kobo/reach_choices_excerpt.csv"))
            .unwrap();
    let m = reach_mapping().with_xlsform(form.clone()).unwrap();
    let out = import_csv(
        &fixture("kobo/reach_excerpt.csv"),
        "reach_excerpt.csv",
        &m,
        &intake(),
        &HashSet::new(),
        ts("2024-01-01T00:00:00Z"),
    )
    .unwrap();
    // choices sheet: network_broker = "Water supply network is often broken/leaking"
    assert_eq!(out.reports[0].text, "Water supply network is often broken/leaking | خارج حدود البلدية");
    // export row 6 (4th report): inadequate_quantity = "inadequate quantity to meet basic household’s needs;" (trailing ; dropped)
    assert!(
        out.reports[3].text.starts_with("inadequate quantity to meet basic household’s needs | "),
        "{}",
        out.reports[3].text
    );

    let mut wrong = reach_mapping();
    wrong.questions.place = Some("village".into());
    let err = wrong.with_xlsform(form).unwrap_err();
    assert!(err.to_string().contains("`questions.place`") && err.to_string().contains("village"), "{err}");
}

/// The full REACH export and its XLSForm, used in place when present.
#[test]
#[ignore = "reads ../shared/datasets/kobo-reach-cleaningtools when present"]
fn reach_full_export_in_place() {
    use vitalcore_intake::xlsform::FormLabels;
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/kobo-reach-cleaningtools");
    let Ok(data) = std::fs::read(dir.join("cleaningtools_raw_data.csv")) else {
        eprintln!("skipped: {} not found", dir.display());
        return;
    };
    let form = FormLabels::from_csv(
        &std::fs::read(dir.join("cleaningtools_survey.csv")).unwrap(),
        &std::fs::read(dir.join("cleaningtools_choices.csv")).unwrap(),
    )
    .unwrap();
    let m = reach_mapping().with_xlsform(form).unwrap();
    let out =
        import_csv(&data, "cleaningtools_raw_data.csv", &m, &intake(), &HashSet::new(), ts("2024-01-01T00:00:00Z"))
            .unwrap();
    // Counted independently (Python csv): 412 of 632 rows answer at least one of the four text questions.
    assert_eq!((out.rows, out.reports.len(), out.rejected.len()), (632, 412, 220));
    // The MSNA XLSForm workbook parses: 501 survey rows, 5,242 choices (per the dataset's SOURCE).
    let tool = FormLabels::from_xlsx(&std::fs::read(dir.join("LBN_MSNA_2022_kobo_tool.xlsx")).unwrap()).unwrap();
    eprintln!("MSNA XLSForm: {} questions, {} choices", tool.question_count(), tool.choice_count());
    assert!(tool.question_count() > 300 && tool.choice_count() > 5000);
}

#[test]
fn a_row_that_is_not_utf8_is_rejected_alone() {
    let m = mapping("form = \"f\"\n[questions]\ntext = \"t\"\n");
    let mut data = b"_uuid,t\nu1,first\nu2,caf".to_vec();
    data.push(0xE9); // Latin-1 e-acute: not UTF-8
    data.extend_from_slice(b"\r\nu3,third\n");
    let out = import_csv(&data, "x.csv", &m, &intake(), &HashSet::new(), ts("2024-01-01T00:00:00Z")).unwrap();
    assert_eq!(out.rows, 3);
    assert_eq!(out.new_uuids, vec!["u1".to_string(), "u3".to_string()]);
    assert_eq!((out.rejected[0].line, out.rejected[0].field.as_str()), (3, "t"));
    assert!(out.rejected[0].reason.contains("UTF-8"));
}
