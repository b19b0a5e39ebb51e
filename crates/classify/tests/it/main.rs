//! Contracts of vitalcore-classify on synthetic fixtures (tests/fixtures,
//! written for these tests; no real data is needed).

use std::path::{Path, PathBuf};

use vitalcore_classify::{
    Classifier, Counts, Crosswalk, Error, Example, FORMAT_VERSION, FeatureConfig, Lexicon, Model, TextColumn,
    TrainConfig, evaluate, label_universe, read_corrections, read_labelled, train,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn small_config() -> TrainConfig {
    TrainConfig {
        features: FeatureConfig { bits: 14, ..FeatureConfig::default() },
        min_examples: 5,
        epochs: 10,
        learning_rate: 0.2,
        ..TrainConfig::default()
    }
}

fn labels_for(crosswalk: &Crosswalk, lexicon: &Lexicon) -> Vec<String> {
    let cw = crosswalk.labels();
    label_universe(cw.iter().map(String::as_str).chain(lexicon.labels().iter().map(String::as_str)))
}

fn train_fixture(with_corrections: bool) -> (Model, Vec<String>) {
    let crosswalk = Crosswalk::read(&fixture("crosswalk.csv")).unwrap();
    let lexicon = Lexicon::builtin();
    let labels = labels_for(&crosswalk, &lexicon);
    let mut data =
        read_labelled(&fixture("messages_train.csv"), &crosswalk, &TextColumn::MessageAndOriginal, &labels).unwrap();
    if with_corrections {
        let extra = read_corrections(&fixture("corrections.csv"), &labels, 10_000).unwrap();
        data.examples.extend(extra);
    }
    (train(&data.examples, labels.clone(), lexicon, &small_config()).unwrap(), labels)
}

fn positive(classifier: &Classifier, text: &str) -> Vec<String> {
    classifier.predict(text).into_iter().filter(|s| s.is_positive()).map(|s| s.label.to_string()).collect()
}

mod metrics {
    use super::*;

    #[test]
    fn counts_follow_the_textbook_definitions() {
        let c = Counts { true_positives: 3, false_positives: 1, false_negatives: 2 };
        assert!((c.precision() - 0.75).abs() < 1e-12);
        assert!((c.recall() - 0.6).abs() < 1e-12);
        // F1 = 2PR/(P+R) = 2*0.45/1.35 = 2/3
        assert!((c.f1() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.support(), 5);
        let empty = Counts::default();
        assert_eq!((empty.precision(), empty.recall(), empty.f1()), (0.0, 0.0, 0.0));
    }

    #[test]
    fn macro_and_micro_count_only_dimensions_with_positives() {
        let labels: Vec<String> =
            ["food", "health", "economic", "protection_of_civilians", "political"].map(String::from).to_vec();
        let evaluated: Vec<String> = labels[..4].to_vec();
        // bits: food 1, health 2, economic 4, protection_of_civilians 8; all four known
        let known = 0b1111u64;
        let truth = vec![(0b0011, known), (0b0001, known), (0b1000, known), (0b0000, known)];
        let predicted = vec![0b0011, 0b0010, 0b0101, 0b10000];
        let report = evaluate(&truth, &predicted, &labels, &evaluated);
        // food: tp 1 (row 0), fp 1 (row 2), fn 1 (row 1) -> P = R = F1 = 0.5
        let food = &report.dimensions["food"];
        assert_eq!((food.precision, food.recall, food.f1, food.support), (0.5, 0.5, 0.5, 2));
        // health: tp 1, fp 1, fn 0 -> P 0.5, R 1, F1 2/3
        let health = &report.dimensions["health"];
        assert!((health.f1 - 2.0 / 3.0).abs() < 1e-12 && health.recall == 1.0);
        // economic: no positive in the file -> reported, but out of macro and micro
        assert_eq!(report.dimensions["economic"].support, 0);
        assert!((report.macro_f1.unwrap() - (0.5 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // micro over food + health: tp 2, fp 2, fn 1 -> 4 / 7 (economic's false positive is not counted)
        assert!((report.micro_f1.unwrap() - 4.0 / 7.0).abs() < 1e-12);
        // the theme is reported apart; political is not evaluated (not in the crosswalk)
        assert_eq!(report.themes["protection_of_civilians"].support, 1);
        assert!(!report.dimensions.contains_key("political"));
    }

    #[test]
    fn json_report_has_the_published_keys() {
        let labels: Vec<String> = vec!["food".into()];
        let report = evaluate(&[(1, 1), (0, 1)], &[1, 1], &labels, &labels);
        let json = serde_json::to_value(&report).unwrap();
        let top: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(top, ["dimensions", "macro_f1", "micro_f1"]);
        let food = json["dimensions"]["food"].as_object().unwrap();
        let keys: Vec<&str> = food.keys().map(String::as_str).collect();
        assert_eq!(keys, ["f1", "precision", "recall", "support"]);
        assert_eq!(json["dimensions"]["food"]["precision"], 0.5);
        assert_eq!(json["micro_f1"], 2.0 / 3.0);
    }

    #[test]
    fn a_file_without_any_positive_has_no_macro_f1() {
        let labels: Vec<String> = vec!["food".into()];
        let report = evaluate(&[(0, 1)], &[1], &labels, &labels);
        assert_eq!(report.macro_f1, None);
        assert_eq!(serde_json::to_value(&report).unwrap()["macro_f1"], serde_json::Value::Null);
    }
}

mod lexicon {
    use super::*;

    #[test]
    fn cold_start_reads_reports_in_six_languages() {
        let reader = Classifier::lexicon_only();
        let cases: [(&str, &[&str]); 8] = [
            ("Des hommes armés ont pillé le marché de Bambari", &["economic", "personal"]),
            ("Nou grangou, nou pa gen manje ni dlo", &["food", "environmental"]),
            ("تفشي الكوليرا في المخيم", &["health", "community"]),
            ("Wakimbizi wamekimbia mafuriko", &["community", "environmental"]),
            ("Nzara ti kobe a yeke mingi na kodoro", &["food"]),
            ("Two journalists were arrested at the checkpoint", &["political", "economic"]),
            ("Child soldiers were seen with the militia", &["children_and_armed_conflict", "personal"]),
            ("Une femme a été violée près du camp", &["conflict_related_sexual_violence", "community"]),
        ];
        for (text, expected) in cases {
            let got = positive(&reader, text);
            for label in expected {
                assert!(got.iter().any(|g| g == label), "{text}: expected {label}, got {got:?}");
            }
        }
        assert!(positive(&reader, "Thank you for the meeting yesterday").is_empty());
    }

    #[test]
    fn builtin_lexicon_covers_every_label_in_the_required_languages() {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../framework/data/lexicon.toml"))
                .unwrap();
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        let tables = parsed["lexicon"].as_table().unwrap();
        for id in vitalcore_classify::DIMENSIONS.iter().chain(vitalcore_classify::THEMES.iter()) {
            let entry = tables.get(*id).unwrap_or_else(|| panic!("no [lexicon.{id}]")).as_table().unwrap();
            for lang in ["en", "fr", "ar", "sw", "ht", "sg"] {
                let words = entry.get(lang).and_then(|v| v.as_array());
                assert!(words.is_some_and(|w| !w.is_empty()), "[lexicon.{id}] has no `{lang}` keywords");
            }
        }
        assert_eq!(Lexicon::builtin().labels().len(), 12);
    }

    #[test]
    fn scores_grow_with_hits() {
        let lex = Lexicon::parse("[lexicon.food]\nen = [\"rice\", \"hunger\"]\n", "test").unwrap();
        let one = lex.scores("rice please")[0].1;
        let two = lex.scores("hunger, rice please")[0].1;
        assert!(lex.scores("water please")[0].1 == 0.0 && one >= 0.5 && two > one);
    }
}

mod data {
    use super::*;

    #[test]
    fn crosswalk_maps_categories_to_dimensions_and_themes() {
        let crosswalk = Crosswalk::read(&fixture("crosswalk.csv")).unwrap();
        let labels = labels_for(&crosswalk, &Lexicon::builtin());
        let data =
            read_labelled(&fixture("messages_train.csv"), &crosswalk, &TextColumn::Named("message".into()), &labels)
                .unwrap();
        assert_eq!(data.examples.len(), 78);
        let bit = |id: &str| 1u64 << labels.iter().position(|l| l == id).unwrap();
        // "Armed men attacked the village..." carries security -> personal + protection_of_civilians
        let attack = data.examples.iter().find(|e| e.text.starts_with("Armed men attacked")).unwrap();
        assert_eq!(attack.positive, bit("personal") | bit("protection_of_civilians"));
        // political is not in this crosswalk: unknown, not negative
        assert_eq!(attack.known & bit("political"), 0);
        assert_ne!(attack.known & bit("food"), 0);
    }

    #[test]
    fn both_columns_give_the_original_as_a_second_example() {
        let crosswalk = Crosswalk::read(&fixture("crosswalk.csv")).unwrap();
        let labels = labels_for(&crosswalk, &Lexicon::builtin());
        let data =
            read_labelled(&fixture("messages_test.csv"), &crosswalk, &TextColumn::MessageAndOriginal, &labels).unwrap();
        // 26 rows, 22 with an original text (4 have none)
        assert_eq!(data.examples.len(), 26 + 22);
        let original =
            read_labelled(&fixture("messages_test.csv"), &crosswalk, &TextColumn::Named("original".into()), &labels)
                .unwrap();
        assert_eq!((original.examples.len(), original.skipped_empty), (22, 4));
    }

    #[test]
    fn corrections_reject_unknown_ids_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corrections.csv");
        std::fs::write(&path, "text,dimensions\nok,food\nbad one,food;securty\n").unwrap();
        let labels = labels_for(&Crosswalk::default(), &Lexicon::builtin());
        let err = read_corrections(&path, &labels, 0).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("line 3") && message.contains("securty"), "{message}");
    }

    #[test]
    fn missing_category_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        std::fs::write(&path, "message,food\nhello,0\n").unwrap();
        let crosswalk = Crosswalk::read(&fixture("crosswalk.csv")).unwrap();
        let labels = labels_for(&crosswalk, &Lexicon::builtin());
        let err = read_labelled(&path, &crosswalk, &TextColumn::Named("message".into()), &labels).unwrap_err();
        assert!(matches!(&err, Error::MissingColumn { column, .. } if column == "water"), "{err}");
    }
}

mod model {
    use super::*;

    #[test]
    fn trained_model_reads_held_out_fixture_messages() {
        let (model, _) = train_fixture(false);
        let classifier = Classifier::Model(Box::new(model));
        assert!(positive(&classifier, "We have no food, we are hungry").contains(&"food".to_string()));
        assert!(positive(&classifier, "Nou pa gen dlo pwòp").contains(&"environmental".to_string()));
        let crosswalk = Crosswalk::read(&fixture("crosswalk.csv")).unwrap();
        let labels = classifier.labels().to_vec();
        let test =
            read_labelled(&fixture("messages_test.csv"), &crosswalk, &TextColumn::Named("message".into()), &labels)
                .unwrap();
        let truth: Vec<(u64, u64)> = test.examples.iter().map(|e| (e.positive, e.known)).collect();
        let predicted: Vec<u64> = test.examples.iter().map(|e| classifier.predict_bits(&e.text)).collect();
        let report = evaluate(&truth, &predicted, &labels, &crosswalk.labels());
        assert_eq!(report.dimensions.len(), 6);
        assert!(report.macro_f1.unwrap() > 0.7, "{report:?}");
    }

    #[test]
    fn probabilities_are_in_range_and_labels_untrained_fall_back_to_the_lexicon() {
        let (model, _) = train_fixture(false);
        let summary = model.summary().clone();
        assert!(summary.lexicon_only.contains(&"political".to_string()));
        let classifier = Classifier::Model(Box::new(model));
        let scores = classifier.predict("Journalists were arrested during the election");
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(&s.probability)));
        let political = scores.iter().find(|s| s.label == "political").unwrap();
        assert!(political.is_positive());
    }

    #[test]
    fn corrections_teach_a_label_the_data_cannot() {
        let (model, _) = train_fixture(true);
        let learned: Vec<&str> = model.summary().learned.iter().map(|(l, _, _)| l.as_str()).collect();
        assert!(learned.contains(&"political"), "{learned:?}");
    }

    #[test]
    fn training_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = train_fixture(false);
        let (b, _) = train_fixture(false);
        a.save(&dir.path().join("a.bin")).unwrap();
        b.save(&dir.path().join("b.bin")).unwrap();
        // the header holds the training time: compare the weights section
        // (after magic, version, header length, header and weight count)
        let weights = |n: &str| {
            let bytes = std::fs::read(dir.path().join(n)).unwrap();
            let header_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
            bytes[16 + header_len..].to_vec()
        };
        let (wa, wb) = (weights("a.bin"), weights("b.bin"));
        assert!(wa.len() > 1000);
        assert_eq!(wa, wb);
        let text = "Armed men looted the market";
        assert_eq!(
            Classifier::Model(Box::new(a)).predict(text).iter().map(|s| s.probability).collect::<Vec<_>>(),
            Classifier::Model(Box::new(b)).predict(text).iter().map(|s| s.probability).collect::<Vec<_>>()
        );
    }

    #[test]
    fn model_file_round_trips() {
        let (model, _) = train_fixture(true);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        model.save(&path).unwrap();
        let loaded = Model::load(&path).unwrap();
        assert_eq!(loaded.labels(), model.labels());
        assert_eq!(loaded.thresholds(), model.thresholds());
        let before = Classifier::Model(Box::new(model));
        let after = Classifier::Model(Box::new(loaded));
        for text in ["Nou grangou", "Des hommes armés", "cholera in the camp", "Polisi waliwakamata waandishi"] {
            assert_eq!(before.predict(text), after.predict(text), "{text}");
        }
    }

    #[test]
    fn model_file_version_and_damage_are_detected() {
        let (model, _) = train_fixture(false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bin");
        model.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), FORMAT_VERSION);

        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let err = Model::from_bytes(&newer, Path::new("m.bin")).unwrap_err();
        assert!(matches!(err, Error::UnsupportedVersion { found, .. } if found == FORMAT_VERSION + 1));
        assert!(err.to_string().contains("retrain"));

        let err = Model::from_bytes(&bytes[..bytes.len() - 3], Path::new("m.bin")).unwrap_err();
        assert!(matches!(err, Error::CorruptModel { .. }), "{err}");

        let err = Model::from_bytes(b"id,message\n1,hello\n", Path::new("data.csv")).unwrap_err();
        assert!(matches!(err, Error::NotAModel { .. }), "{err}");
    }

    #[test]
    fn no_examples_is_an_error() {
        let labels = labels_for(&Crosswalk::default(), &Lexicon::builtin());
        let err = train(&[] as &[Example], labels, Lexicon::builtin(), &small_config()).unwrap_err();
        assert!(matches!(err, Error::NoExamples(_)));
    }
}

/// Conflict-incident texts written for these tests (tests/fixtures/conflict_incidents.csv,
/// English and French): violence against food and livelihoods must be read as
/// food security, sexual violence as personal security, attacks on health
/// care as health; other incidents must not be read as food security.
mod conflict {
    use super::*;

    struct Incident {
        text: String,
        kind: String,
        must: Vec<String>,
        must_not: Vec<String>,
    }

    fn incidents() -> Vec<Incident> {
        let ids = |s: &str| s.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        let mut reader = csv::Reader::from_path(fixture("conflict_incidents.csv")).unwrap();
        reader
            .deserialize::<(String, String, String, String, String)>()
            .map(|row| {
                let (text, _language, kind, must, must_not) = row.unwrap();
                Incident { text, kind, must: ids(&must), must_not: ids(&must_not) }
            })
            .collect()
    }

    /// The dimension an incident of this kind must be read into.
    fn dimension_of(kind: &str) -> Option<&'static str> {
        match kind {
            "food" => Some("food"),
            "sexual_violence" => Some("personal"),
            "health_care" => Some("health"),
            _ => None,
        }
    }

    /// Every incident the classifier misreads, with what it gave: any label
    /// of `must` missing (or, with `kind_only`, the dimension of its kind),
    /// any label of `must_not` given.
    fn misread(classifier: &Classifier, kind_only: bool) -> Vec<String> {
        let mut wrong = Vec::new();
        for i in incidents() {
            let got = positive(classifier, &i.text);
            let must: Vec<String> = match (kind_only, dimension_of(&i.kind)) {
                (true, Some(d)) => vec![d.to_string()],
                (true, None) => Vec::new(),
                (false, _) => i.must.clone(),
            };
            let missing: Vec<&String> = must.iter().filter(|l| !got.contains(l)).collect();
            let extra: Vec<&String> = i.must_not.iter().filter(|l| got.contains(l)).collect();
            if !missing.is_empty() || !extra.is_empty() {
                wrong.push(format!("{} ({}): missing {missing:?}, wrongly {extra:?}; got {got:?}", i.text, i.kind));
            }
        }
        wrong
    }

    #[test]
    fn the_fixture_covers_each_kind_in_english_and_french() {
        let all = incidents();
        for kind in ["food", "sexual_violence", "health_care", "other"] {
            let n = all.iter().filter(|i| i.kind == kind).count();
            assert!(n >= 6, "{kind}: {n} incidents");
        }
        assert_eq!(all.iter().filter(|i| i.kind == "food").count(), 24);
        for i in &all {
            if let Some(d) = dimension_of(&i.kind) {
                assert!(i.must.iter().any(|m| m == d), "{}: `must` names its dimension {d}", i.text);
            }
        }
    }

    #[test]
    fn the_lexicon_reads_incidents_into_their_dimensions() {
        let wrong = misread(&Classifier::lexicon_only(), false);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn a_trained_model_reads_incidents_into_their_dimensions() {
        // The fixture's messages are disaster messages, where food means
        // hunger after a flood: the compound keywords carry the conflict
        // incidents whatever the model learned. (The fixture's model is too
        // small to be held to the other labels of `must`.)
        let (model, _) = train_fixture(false);
        let wrong = misread(&Classifier::Model(Box::new(model)), true);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn a_compound_keyword_overrides_the_model_score_in_probabilities_too() {
        let (model, _) = train_fixture(false);
        let classifier = Classifier::Model(Box::new(model));
        let text = "Les miliciens ont pillé l'entrepôt du PAM";
        let food = classifier.predict(text).into_iter().find(|s| s.label == "food").unwrap();
        assert!(food.is_positive() && food.probability >= food.threshold, "{food:?}");
        let bits = classifier.predict_bits(text);
        let index = classifier.labels().iter().position(|l| l == "food").unwrap();
        assert_eq!(bits >> index & 1, 1);
    }
}
