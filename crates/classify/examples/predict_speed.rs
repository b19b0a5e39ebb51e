//! Prediction speed of a model on a labelled file, measured like
//! `vitalcore classify evaluate --timing` (texts already in memory, one
//! `predict_bits` call per message, one thread), without building the CLI.
//! Also the probe for instruction-count profiling (valgrind --tool=callgrind).
//!
//! usage: cargo run --release -p vitalcore-classify --example predict_speed -- \
//!            DATA_DIR MODEL [PASSES]
//! Trains MODEL from DATA_DIR/train.csv first when it does not exist; PASSES
//! (default 5) repetitions over DATA_DIR/validation.csv `message`; prints the
//! median messages/s and a checksum of the predicted label bits.

use std::path::Path;
use std::time::Instant;

use vitalcore_classify::{
    Classifier, Crosswalk, Lexicon, Model, TextColumn, TrainConfig, label_universe, read_labelled, train,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, model_path, rest @ ..] = args.as_slice() else {
        return Err("usage: predict_speed DATA_DIR MODEL [PASSES]".into());
    };
    let passes: usize = rest.first().map_or(Ok(5), |p| p.parse())?;
    let data = Path::new(data);
    let crosswalk = Crosswalk::read(&data.join("crosswalk.csv"))?;
    let model_path = Path::new(model_path);
    if !model_path.exists() {
        let lexicon = Lexicon::builtin();
        let crosswalk_labels = crosswalk.labels();
        let labels = label_universe(
            crosswalk_labels.iter().map(String::as_str).chain(lexicon.labels().iter().map(String::as_str)),
        );
        let train_set = read_labelled(&data.join("train.csv"), &crosswalk, &TextColumn::MessageAndOriginal, &labels)?;
        train(&train_set.examples, labels, lexicon, &TrainConfig::default())?.save(model_path)?;
    }
    let classifier = Classifier::Model(Box::new(Model::load(model_path)?));
    let labels = classifier.labels().to_vec();
    let column = TextColumn::Named("message".into());
    let examples = read_labelled(&data.join("validation.csv"), &crosswalk, &column, &labels)?.examples;
    let mut rates = Vec::new();
    let mut checksum = 0u64;
    for _ in 0..passes {
        let started = Instant::now();
        checksum = 0;
        for (i, e) in examples.iter().enumerate() {
            checksum = checksum.wrapping_add(classifier.predict_bits(&e.text).wrapping_mul(i as u64 + 1));
        }
        rates.push(examples.len() as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let median = rates.get(rates.len() / 2).copied().unwrap_or(0.0);
    println!("{} messages, median {median:.0}/s over {passes} passes, checksum {checksum:016x}", examples.len());
    Ok(())
}
