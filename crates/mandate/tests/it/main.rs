//! The reader, tagger and trend on resolutions cut from the UN corpus
//! (`tests/fixtures/akn`, see its SOURCE.md).

mod agreement;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use vitalcore_framework::Framework;
use vitalcore_mandate::{By, Kind, MandateError, Parsed, Resolution, Tagger, Term, parse_resolution, read_paths};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/akn")
}

fn read_one(rel: &str) -> Resolution {
    let path = fixtures().join(rel);
    let bytes = std::fs::read(&path).unwrap();
    match parse_resolution(rel, &bytes).unwrap() {
        Parsed::Resolution(r) => *r,
        Parsed::Skipped { symbol, .. } => panic!("skipped {symbol}"),
    }
}

fn tagged(rel: &str) -> Resolution {
    let fw = Framework::built_in();
    let mut r = read_one(rel);
    Tagger::new(&fw).tag(&mut r);
    r
}

#[test]
fn minusma_mandate_keeps_numbering_eids_and_nesting() {
    let r = tagged("Pre-2020/2013/S_RES_2100_1331417e.xml");
    assert_eq!((r.symbol.as_str(), r.number, r.date.as_str(), r.year), ("S/RES/2100 (2013)", 2100, "2013-04-25", 2013));
    assert!(r.chapter_vii);
    assert_eq!(r.agenda_item.as_deref(), Some("The situation in Mali"));
    assert_eq!(r.missions.first().map(String::as_str), Some("MINUSMA"));
    let preamble = r.paragraphs.iter().filter(|p| p.kind == Kind::Preamble).count();
    assert!(preamble >= 20, "{preamble} preambular paragraphs");
    assert_eq!(r.paragraphs[0].eid, "container_2");
    assert!(r.paragraphs[0].tasks.is_empty() && r.paragraphs[0].strength.is_none());
    let p16 = r.paragraphs.iter().find(|p| p.num.as_deref() == Some("16")).unwrap();
    assert_eq!(p16.eid, "para_146");
    assert_eq!(p16.kind, Kind::Operative);
    assert_eq!(p16.text, "Decides that the mandate of MINUSMA shall be the following:");
    assert_eq!(p16.strength.as_deref(), Some("decides"));
    assert_eq!(p16.missions, ["MINUSMA"]);
    let nums: Vec<&str> = p16.points.iter().map(|p| p.num.as_deref().unwrap()).collect();
    assert_eq!(nums, ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)"], "points as printed, (f) and (g) printed apart");
    let a = &p16.points[0];
    assert_eq!(a.eid, "para_146_list_point_a");
    assert_eq!(a.points.len(), 5, "sub-points (i)-(v) nested under (a)");
    assert_eq!(a.points[1].num.as_deref(), Some("(ii)"));
    assert_eq!(a.points[1].eid, "para_146_list_point_a_sublist_point_ii");
    assert_eq!(a.points[0].tasks, ["stabilization"]);
    assert_eq!(a.points[1].tasks, ["state_authority"]);
    assert_eq!(a.points[4].tasks, ["ddr"]);
    let c = &p16.points[2];
    assert_eq!(c.points[0].tasks, ["protection_of_civilians"]);
    assert_eq!(c.points[0].dimensions, ["personal"]);
    assert_eq!(c.points[0].themes, ["protection_of_civilians"]);
    // (e) humanitarian assistance: its body printed as a paragraph of its own joins it
    assert!(p16.points[4].text.contains("safe, civilian-led delivery of humanitarian"), "{}", p16.points[4].text);
    assert_eq!(p16.points[5].tasks, ["cultural_heritage"]);
    for t in ["protection_of_civilians", "human_rights", "elections", "ddr", "stabilization", "cultural_heritage"] {
        assert!(p16.tasks.iter().any(|x| x == t), "{t} not in {:?}", p16.tasks);
    }
    let p17 = r.paragraphs.iter().find(|p| p.num.as_deref() == Some("17")).unwrap();
    assert_eq!(p17.strength.as_deref(), Some("authorizes"));
    assert!(p17.all_necessary_means);
    let p35 = r.paragraphs.iter().find(|p| p.num.as_deref() == Some("35")).unwrap();
    assert!(p35.tasks.is_empty(), "remaining seized gives no task");
}

#[test]
fn a_topic_merely_named_is_no_task() {
    let r = tagged("Pre-2020/2013/S_RES_2100_1331417e.xml");
    // preambular paragraphs never give tasks, whatever they name
    assert!(r.paragraphs.iter().filter(|p| p.kind == Kind::Preamble).all(|p| p.tasks.is_empty()));
    let fw = Framework::built_in();
    let tagger = Tagger::new(&fw);
    let xml = |body: &str| {
        format!(
            r##"<akomaNtoso xmlns="http://docs.oasis-open.org/legaldocml/ns/akn/3.0"><statement name="resolution"><meta><identification><FRBRWork><FRBRthis value="/akn/un/statement/deliberation/unsc/2014-09-15/9999-2014/!main/"/><FRBRdate date="2014-09-15" name="adoption"/></FRBRWork></identification></meta><coverPage><p><docNumber refersTo="#symbol">S/RES/9999 (2014)</docNumber></p></coverPage><mainBody>{body}</mainBody></statement></akomaNtoso>"##
        )
    };
    let para = |text: &str| {
        let doc = xml(&format!(r#"<paragraph eId="para_1"><num>1.</num><content><p>{text}</p></content></paragraph>"#));
        let Parsed::Resolution(mut r) = parse_resolution("t.xml", doc.as_bytes()).unwrap() else { panic!() };
        tagger.tag(&mut r);
        r.paragraphs.remove(0)
    };
    let p = para(r#"<span class="italic">Condemns</span> attacks on civilians and on humanitarian personnel;"#);
    assert!(p.tasks.is_empty(), "{:?}", p.tasks);
    assert_eq!(p.strength.as_deref(), Some("condemns"));
    let p = para(
        r#"<span class="italic">Condemns</span> attacks on civilians, and <span class="italic">requests</span> UNMIL to protect civilians under imminent threat of physical violence;"#,
    );
    assert_eq!(p.tasks, ["protection_of_civilians"]);
    assert_eq!(p.strength.as_deref(), Some("requests"));
    assert_eq!(p.missions, ["UNMIL"]);
    let p = para(
        r#"<span class="italic">Further decides</span> that UNMIL shall support the Government of Liberia in the fight against Ebola;"#,
    );
    assert_eq!(
        (p.tasks.as_slice(), p.dimensions.as_slice()),
        (&["public_health".to_string()][..], &["health".to_string()][..])
    );
    assert_eq!(p.strength.as_deref(), Some("decides"));
    // the mission's name does not make a stabilization task
    let p = para(
        r#"<span class="italic">Decides</span> to extend the mandate of the United Nations Multidimensional Integrated Stabilization Mission in Mali until 30 June 2015;"#,
    );
    assert!(p.tasks.is_empty(), "{:?}", p.tasks);
    assert_eq!(p.missions, ["MINUSMA"]);
    // "UNMIS" is not found inside "UNMISS"
    let p = para(r#"<span class="italic">Requests</span> UNMISS to report;"#);
    assert_eq!(p.missions, ["UNMISS"]);
}

#[test]
fn early_files_sections_and_numbers_printed_apart() {
    // 1295 (2000): operative paragraphs inside <section>, preambular crossHeadings in the main body
    let r = tagged("Pre-2020/2000/S_RES_1295_N0039656.xml");
    let op: Vec<&str> =
        r.paragraphs.iter().filter(|p| p.kind == Kind::Operative).filter_map(|p| p.num.as_deref()).collect();
    assert_eq!(op.first(), Some(&"1"));
    assert!(op.len() >= 28, "{op:?}");
    assert!(
        r.paragraphs
            .iter()
            .any(|p| p.kind == Kind::Preamble && p.eid == "preamble_14" && p.text.contains("Chapter VII"))
    );
    assert!(r.chapter_vii);
    // 1285 (2000): the number alone, its text in the next (unnumbered) paragraph
    let r = tagged("Pre-2020/2000/S_RES_1285_N0023963.xml");
    let p1 = r.paragraphs.iter().find(|p| p.num.as_deref() == Some("1")).unwrap();
    assert!(p1.text.starts_with("Authorizes the United Nations military observers"), "{}", p1.text);
    assert_eq!(p1.strength.as_deref(), Some("authorizes"));
    assert!(p1.tasks.contains(&"ceasefire_monitoring".to_string()), "{:?}", p1.tasks);
}

#[test]
fn a_folder_counts_duplicates_once_skips_statements_and_reads_the_data_extract() {
    let corpus = read_paths(&[fixtures()]).unwrap();
    assert_eq!(corpus.files, 10);
    assert!(corpus.errors.is_empty());
    let numbers: Vec<u32> = corpus.resolutions.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1285, 1295, 2100, 2116, 2164, 2176, 2177, 2464]);
    assert!(corpus.notes.iter().any(|n| n.contains("S/PRST/2020/11") && n.contains("presidential statement")));
    assert!(corpus.notes.iter().any(|n| n.contains("S/RES/2464 (2019) already read") && n.contains("counted once")));
    let r2176 = corpus.resolutions.iter().find(|r| r.number == 2176).unwrap();
    assert_eq!(r2176.agenda_item.as_deref(), Some("The situation in Liberia"));
}

#[test]
fn the_ebola_mandates_health_absent_from_unmil_then_given() {
    let fw = Framework::built_in();
    let tagger = Tagger::new(&fw);
    let mut corpus = read_paths(&[fixtures()]).unwrap();
    for r in &mut corpus.resolutions {
        tagger.tag(r);
    }
    let tasks = |n: u32| -> Vec<String> {
        let r = corpus.resolutions.iter().find(|r| r.number == n).unwrap();
        r.paragraphs.iter().flat_map(|p| p.tasks.clone()).collect()
    };
    assert!(!tasks(2164).contains(&"public_health".to_string()), "MINUSMA June 2014: no health task");
    assert!(!tasks(2176).contains(&"public_health".to_string()), "UNMIL September 2014: no health task");
    assert!(tasks(2177).contains(&"public_health".to_string()), "2177 (Ebola) gives health tasks");
}

#[test]
fn bad_input_names_the_file_and_what_was_expected() {
    let err = parse_resolution("broken.xml", b"<akomaNtoso><statement>").unwrap_err();
    assert!(matches!(err, MandateError::Xml { line: 1, .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("broken.xml: malformed XML at line 1") && msg.contains("expected an Akoma Ntoso"), "{msg}");
    let err = parse_resolution("page.html", b"<html><body>hi</body></html>").unwrap_err().to_string();
    assert!(err.contains("page.html") && err.contains("root element is <html>, expected <akomaNtoso>"), "{err}");
    let err = parse_resolution("latin1.xml", b"<akomaNtoso>\xe9</akomaNtoso>").unwrap_err().to_string();
    assert!(err.contains("latin1.xml: not UTF-8"), "{err}");
    let err =
        parse_resolution("nosym.xml", b"<akomaNtoso><statement><mainBody/></statement></akomaNtoso>").unwrap_err();
    assert!(err.to_string().contains("nosym.xml: the symbol is missing"), "{err}");
    let dtd = b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><akomaNtoso/>";
    assert!(parse_resolution("dtd.xml", dtd).is_err(), "DTDs (entity expansion) are refused");
    let empty = tempfile::tempdir().unwrap();
    let err = read_paths(&[empty.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("no .xml file") && err.contains(&empty.path().display().to_string()), "{err}");
    assert!(matches!(Term::new("  -  "), Err(MandateError::EmptyTerm)));
    // a folder with one bad file: the others are read, the bad one reported
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("Pre-2020/2014/S_RES_2176_1460946E.xml"), dir.path().join("a.xml")).unwrap();
    std::fs::write(dir.path().join("b.xml"), "<akomaNtoso>").unwrap();
    let corpus = read_paths(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(corpus.resolutions.len(), 1);
    assert_eq!(corpus.errors.len(), 1);
    assert!(corpus.errors[0].to_string().contains("b.xml"));
}

#[test]
fn the_term_trend_counts_each_resolution_once_both_spellings() {
    let corpus = read_paths(&[fixtures()]).unwrap();
    let term = Term::new("stabiliz").unwrap();
    assert!(term.found_in("to stabilise the key population centres"));
    assert!(term.found_in("Stabilization of key population centres"));
    assert!(!term.found_in("destabilizing activities"));
    let t = vitalcore_mandate::trend(&corpus.resolutions, &term, By::Year);
    let y2019 = t.rows.iter().find(|r| r.year == Some(2019)).unwrap();
    assert_eq!(y2019.resolutions, 1, "2464 appears twice, counted once");
    let y2013 = t.rows.iter().find(|r| r.year == Some(2013)).unwrap();
    assert_eq!((y2013.resolutions, y2013.with_term, y2013.share), (2, 2, 1.0));
    let bands = vitalcore_mandate::trend(&corpus.resolutions, &term, By::Band);
    let b = bands.rows.iter().find(|r| r.band.as_deref() == Some("2012-2014")).unwrap();
    assert_eq!(b.resolutions, 5);
    assert!(b.share_operative <= b.share);
}

#[test]
fn the_adoption_date_not_a_placeholder() {
    let doc = r##"<akomaNtoso><statement><meta><identification><FRBRWork><FRBRdate date="0001-01-01" name="adoption"/></FRBRWork></identification></meta><coverPage><p><docNumber refersTo="#symbol">S/RES/1289 (2000)</docNumber></p><p><docDate date="2000-02-07" refersTo="#adoptionDate">7 February 2000</docDate></p></coverPage><mainBody><paragraph eId="para_1"><num>1.</num><content><p>Decides to remain seized of the matter.</p></content></paragraph></mainBody></statement></akomaNtoso>"##;
    let Parsed::Resolution(r) = parse_resolution("1289.xml", doc.as_bytes()).unwrap() else { panic!() };
    assert_eq!((r.date.as_str(), r.year), ("2000-02-07", 2000));
}

/// A cheap stand-in for the fuzz target (`fuzz/fuzz_targets/mandate_akn.rs`):
/// every cut of a real file and bytes flipped through it are read without a
/// panic, as a resolution or as an error naming the file.
#[test]
fn cut_and_damaged_files_never_panic() {
    let fw = Framework::built_in();
    let tagger = Tagger::new(&fw);
    let bytes = std::fs::read(fixtures().join("Pre-2020/2014/S_RES_2176_1460946E.xml")).unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut read = 0;
    for cut in (0..bytes.len()).step_by(997) {
        let mut data = bytes[..cut].to_vec();
        for _ in 0..3 {
            if !data.is_empty() {
                let i = (next() as usize) % data.len();
                data[i] = (next() & 0xFF) as u8;
            }
        }
        for input in [&bytes[..cut], &data[..]] {
            match parse_resolution("cut.xml", input) {
                Ok(Parsed::Resolution(mut r)) => {
                    tagger.tag(&mut r);
                    read += 1;
                }
                Ok(Parsed::Skipped { .. }) => {}
                Err(e) => assert!(e.to_string().starts_with("cut.xml"), "{e}"),
            }
        }
    }
    let Parsed::Resolution(_) = parse_resolution("whole.xml", &bytes).unwrap() else { panic!() };
    assert!(read <= 2 * bytes.len() / 997 + 2);
}

#[test]
fn a_missions_timeline_says_what_each_resolution_added_and_dropped() {
    let fw = Framework::built_in();
    let tagger = Tagger::new(&fw);
    let mut corpus = read_paths(&[fixtures()]).unwrap();
    for r in &mut corpus.resolutions {
        tagger.tag(r);
    }
    let t = vitalcore_mandate::timeline(&fw, &corpus.resolutions, "minusma");
    assert_eq!(t.mission, "MINUSMA");
    let symbols: Vec<&str> = t.resolutions.iter().map(|s| s.symbol.as_str()).collect();
    assert_eq!(symbols, ["S/RES/2100 (2013)", "S/RES/2164 (2014)"]);
    assert!(t.resolutions[0].mandating.contains(&"16".to_string()), "the mandate of MINUSMA shall be the following");
    let first = &t.resolutions[0];
    assert_eq!(first.kind, "restates");
    assert!(first.added.tasks.contains(&"protection_of_civilians".to_string()));
    assert!(first.dropped.tasks.is_empty());
    assert!(first.dimensions.contains(&"personal".to_string()));
    assert!(!first.tasks.contains(&"public_health".to_string()), "no health task in 2013");
    let second = &t.resolutions[1];
    assert_eq!(second.kind, "restates");
    let in_force: BTreeSet<&String> = second.tasks.iter().collect();
    let before: BTreeSet<&String> = first.tasks.iter().collect();
    let added: BTreeSet<&String> = second.added.tasks.iter().collect();
    let dropped: BTreeSet<&String> = second.dropped.tasks.iter().collect();
    assert_eq!(in_force.difference(&before).copied().collect::<BTreeSet<_>>(), added);
    assert_eq!(before.difference(&in_force).copied().collect::<BTreeSet<_>>(), dropped);
    // UNMIL: the resolutions that mandate it, not 2164 (MINUSMA's, naming
    // UNMIL in "Authorizes the Secretary-General to ensure inter-mission
    // cooperation, notably between MINUSMA, UNMIL and UNOCI") nor 2177
    // (Ebola, naming UNMIL's air shuttle while thanking Ghana).
    let unmil = vitalcore_mandate::timeline(&fw, &corpus.resolutions, "UNMIL");
    let symbols: Vec<&str> = unmil.resolutions.iter().map(|s| s.symbol.as_str()).collect();
    assert_eq!(symbols, ["S/RES/2116 (2013)", "S/RES/2176 (2014)"]);
    assert_eq!(unmil.resolutions[0].mandating, ["1", "5"], "decides that the mandate of UNMIL shall be extended");
    assert_eq!(unmil.resolutions[1].mandating, ["1"], "decides to extend the mandate of UNMIL");
    // The technical extension of September 2014 (2176) adds nothing and drops nothing
    let s2176 = unmil.resolutions.iter().find(|s| s.symbol == "S/RES/2176 (2014)").unwrap();
    assert_eq!(s2176.kind, "adds");
    assert!(s2176.dropped.tasks.is_empty());
    assert!(!s2176.tasks.contains(&"public_health".to_string()), "UNMIL: no health task in force in September 2014");
}
