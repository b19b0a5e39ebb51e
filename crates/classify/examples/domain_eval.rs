//! Precision and recall per label of one model on several labelled files,
//! side by side (e.g. disaster messages next to conflict-incident texts),
//! without building the CLI. Trains MODEL from TRAIN_DIR first when it does
//! not exist.
//!
//! usage: cargo run --release -p vitalcore-classify --example domain_eval -- \
//!            TRAIN_DIR MODEL NAME=FILE:CROSSWALK...
//! Environment: LEXICON=FILE replaces the built-in lexicon (training and
//! LEXICON_ONLY readings), LEXICON_ONLY=1 reads with the lexicon alone,
//! TRAIN_CONFIG=JSON overrides training settings, ERRORS=LABEL prints the
//! false positives and negatives of LABEL to stderr, COLUMN=NAME reads that
//! text column (default `message`).
//! Prints one JSON line per file: `{"name", "labels": {id: [precision, recall, support]}, "macro_f1"}`.

use std::path::Path;

use vitalcore_classify::{
    Classifier, Crosswalk, Lexicon, Model, TextColumn, TrainConfig, evaluate, label_universe, read_labelled, train,
};

/// The built-in lexicon, or the file named by the environment variable LEXICON.
fn lexicon() -> Result<Lexicon, Box<dyn std::error::Error>> {
    Ok(match std::env::var("LEXICON") {
        Ok(path) => Lexicon::parse(&std::fs::read_to_string(&path)?, &path)?,
        Err(_) => Lexicon::builtin(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [train_dir, model_path, files @ ..] = args.as_slice() else {
        return Err("usage: domain_eval TRAIN_DIR MODEL NAME=FILE:CROSSWALK...".into());
    };
    let train_dir = Path::new(train_dir);
    let model_path = Path::new(model_path);
    if !model_path.exists() {
        let crosswalk = Crosswalk::read(&train_dir.join("crosswalk.csv"))?;
        let lexicon = lexicon()?;
        let crosswalk_labels = crosswalk.labels();
        let labels = label_universe(
            crosswalk_labels.iter().map(String::as_str).chain(lexicon.labels().iter().map(String::as_str)),
        );
        let set = read_labelled(&train_dir.join("train.csv"), &crosswalk, &TextColumn::MessageAndOriginal, &labels)?;
        let config = match std::env::var("TRAIN_CONFIG") {
            Ok(json) => serde_json::from_str(&json)?,
            Err(_) => TrainConfig::default(),
        };
        train(&set.examples, labels, lexicon, &config)?.save(model_path)?;
    }
    let classifier = if std::env::var("LEXICON_ONLY").is_ok() {
        Classifier::Lexicon(lexicon()?)
    } else {
        Classifier::Model(Box::new(Model::load(model_path)?))
    };
    let labels = classifier.labels().to_vec();
    for spec in files {
        let (name, rest) = spec.split_once('=').ok_or("NAME=FILE:CROSSWALK")?;
        let (file, crosswalk) = rest.rsplit_once(':').ok_or("NAME=FILE:CROSSWALK")?;
        let crosswalk = Crosswalk::read(Path::new(crosswalk))?;
        let column = TextColumn::Named(std::env::var("COLUMN").unwrap_or_else(|_| "message".into()));
        let examples = read_labelled(Path::new(file), &crosswalk, &column, &labels)?.examples;
        let truth: Vec<(u64, u64)> = examples.iter().map(|e| (e.positive, e.known)).collect();
        let predicted: Vec<u64> = examples.iter().map(|e| classifier.predict_bits(&e.text)).collect();
        if let Ok(label) = std::env::var("ERRORS") {
            let bit = 1u64 << labels.iter().position(|l| *l == label).ok_or("ERRORS: unknown label")?;
            for (e, &p) in examples.iter().zip(&predicted) {
                if e.known & bit != 0 && (e.positive & bit != 0) != (p & bit != 0) {
                    let kind = if p & bit != 0 { "false positive" } else { "false negative" };
                    eprintln!("{name}\t{label}\t{kind}\t{}", e.text);
                }
            }
        }
        let evaluated = crosswalk.labels();
        let report = evaluate(&truth, &predicted, &labels, &evaluated);
        let mut out = serde_json::Map::new();
        for (id, m) in report.dimensions.iter().chain(report.themes.iter()) {
            out.insert(id.clone(), serde_json::json!([m.precision, m.recall, m.support]));
        }
        println!("{}", serde_json::json!({"name": name, "labels": out, "macro_f1": report.macro_f1}));
    }
    Ok(())
}
