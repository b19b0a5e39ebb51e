//! `vitalcore classify`: train, evaluate and run the text classifier that reads
//! reports into human-security dimensions and themes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use vitalcore_classify::{
    Classifier, Crosswalk, Evaluation, Lexicon, Model, TextColumn, TrainConfig, evaluate, label_universe,
    read_corrections, read_labelled, read_texts, train,
};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Learn a model from labelled messages (and analysts' corrections)
    Train(TrainArgs),
    /// Per-dimension precision, recall, F1 and support of a model (or of the lexicon alone) on labelled messages
    Evaluate(EvaluateArgs),
    /// Read one text, or every message of a file, into dimensions and themes
    Predict(PredictArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Labelled messages: a text column plus one 0/1 column per crosswalk category
    #[arg(long)]
    data: PathBuf,
    /// Mapping from the data's categories to dimensions and themes (category,dimension,theme)
    #[arg(long)]
    crosswalk: PathBuf,
    /// Where to write the model file
    #[arg(long)]
    out: PathBuf,
    /// Text column to learn from; `both` learns from `message` and, where present, `original`
    #[arg(long, default_value = "both")]
    text_column: String,
    /// Analysts' corrections: CSV with columns text,dimensions (ids separated by ';')
    #[arg(long)]
    corrections: Option<PathBuf>,
    /// Also learn from the analysts' corrections stored in this database (an
    /// SQLite file, or postgres://... / "host=... dbname=..."): each corrected
    /// report's text with its latest dimensions and themes
    #[arg(long, value_name = "DB")]
    corrections_from_db: Option<String>,
    /// A keyword lexicon replacing the built-in one (TOML, `[lexicon.<id>]` tables)
    #[arg(long)]
    lexicon: Option<PathBuf>,
    /// Seed of the shuffles and folds (same data + seed = same model)
    #[arg(long)]
    seed: Option<u64>,
    /// Training settings as JSON overriding the defaults, e.g. '{"epochs": 8, "features": {"bits": 20}}'
    #[arg(long)]
    config: Option<String>,
    /// Print nothing but errors
    /// Set from the global `--quiet`.
    #[arg(skip)]
    quiet: bool,
}

#[derive(clap::Args)]
struct EvaluateArgs {
    /// Model file; without it the lexicon alone is evaluated (cold start)
    #[arg(long)]
    model: Option<PathBuf>,
    /// Labelled messages to score against
    #[arg(long)]
    data: PathBuf,
    /// Mapping from the data's categories to dimensions and themes
    #[arg(long)]
    crosswalk: PathBuf,
    /// Text column to read; rows where it is empty are left out
    #[arg(long, default_value = "message")]
    text_column: String,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Lexicon for the lexicon-only reading (default: the built-in one)
    #[arg(long)]
    lexicon: Option<PathBuf>,
    /// Also print prediction speed (messages/s, single-message latency) to stderr as JSON
    #[arg(long)]
    timing: bool,
    /// Print nothing but the report and errors
    /// Set from the global `--quiet`.
    #[arg(skip)]
    quiet: bool,
}

#[derive(clap::Args)]
struct PredictArgs {
    /// Model file; without it the built-in lexicon reads the text
    #[arg(long)]
    model: Option<PathBuf>,
    /// The text to read
    #[arg(conflicts_with = "data", required_unless_present = "data")]
    text: Option<String>,
    /// A CSV of messages to read (one JSON line per message is printed)
    #[arg(long)]
    data: Option<PathBuf>,
    /// Text column of --data
    #[arg(long, default_value = "message")]
    text_column: String,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub fn run(args: Args, global: &crate::context::Global) -> anyhow::Result<()> {
    match args.command {
        Command::Train(a) => run_train(TrainArgs { quiet: global.quiet, ..a }),
        Command::Evaluate(a) => run_evaluate(EvaluateArgs { quiet: global.quiet, ..a }),
        Command::Predict(a) => run_predict(a),
    }
}

fn load_lexicon(path: Option<&Path>) -> anyhow::Result<Lexicon> {
    match path {
        None => Ok(Lexicon::builtin()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read lexicon {}", p.display()))?;
            Ok(Lexicon::parse(&text, &p.display().to_string())?)
        }
    }
}

fn load_classifier(model: Option<&Path>, lexicon: Option<&Path>) -> anyhow::Result<Classifier> {
    match model {
        Some(path) => Ok(Classifier::Model(Box::new(Model::load(path)?))),
        None => Ok(Classifier::Lexicon(load_lexicon(lexicon)?)),
    }
}

fn run_train(a: TrainArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let crosswalk = Crosswalk::read(&a.crosswalk)?;
    let lexicon = load_lexicon(a.lexicon.as_deref())?;
    let crosswalk_labels = crosswalk.labels();
    let labels =
        label_universe(crosswalk_labels.iter().map(String::as_str).chain(lexicon.labels().iter().map(String::as_str)));
    let text_column: TextColumn = a.text_column.parse()?;
    let mut dataset = read_labelled(&a.data, &crosswalk, &text_column, &labels)?;
    let mut corrections = 0;
    if let Some(path) = &a.corrections {
        let extra = read_corrections(path, &labels, dataset.examples.len() as u32 + 1)?;
        corrections = extra.len();
        dataset.examples.extend(extra);
    }
    if let Some(db) = &a.corrections_from_db {
        let extra = stored_corrections(db, &labels, dataset.examples.len() as u32 + 1)?;
        corrections += extra.len();
        dataset.examples.extend(extra);
    }
    let mut config: TrainConfig = match &a.config {
        Some(json) => serde_json::from_str(json).context("--config is not valid training settings JSON")?,
        None => TrainConfig::default(),
    };
    if let Some(seed) = a.seed {
        config.seed = seed;
    }
    let model = train(&dataset.examples, labels, lexicon, &config)?;
    model.save(&a.out)?;
    if !a.quiet {
        let summary = model.summary();
        let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "trained on {} examples ({} corrections, {} rows without text skipped) in {:.2} s; model {} ({:.1} MB)",
            summary.examples,
            corrections,
            dataset.skipped_empty,
            started.elapsed().as_secs_f64(),
            a.out.display(),
            size as f64 / 1e6
        );
        for (label, positives, f1) in &summary.learned {
            eprintln!("  learned {label:<34} {positives:>6} positives, out-of-fold F1 {f1:.3}");
        }
        if !summary.lexicon_only.is_empty() {
            eprintln!("  read by the lexicon only (too few examples): {}", summary.lexicon_only.join(", "));
        }
    }
    Ok(())
}

fn run_evaluate(a: EvaluateArgs) -> anyhow::Result<()> {
    let classifier = load_classifier(a.model.as_deref(), a.lexicon.as_deref())?;
    let crosswalk = Crosswalk::read(&a.crosswalk)?;
    let labels = classifier.labels().to_vec();
    let evaluated = crosswalk.labels();
    for id in &evaluated {
        if !labels.contains(id) && !a.quiet {
            eprintln!(
                "warning: the classifier has no label `{id}` (named in {}); it is not scored",
                a.crosswalk.display()
            );
        }
    }
    let text_column: TextColumn = a.text_column.parse()?;
    let dataset = read_labelled(&a.data, &crosswalk, &text_column, &labels)?;
    if !a.quiet && dataset.skipped_empty > 0 {
        eprintln!("{} rows with an empty `{}` left out", dataset.skipped_empty, a.text_column);
    }
    let mut predicted = Vec::with_capacity(dataset.examples.len());
    let mut latencies = Vec::with_capacity(dataset.examples.len());
    // With --timing the file is predicted again until TIMED_SECONDS have
    // passed: one pass over a few thousand messages takes milliseconds, and a
    // single preemption on a shared machine would move the figure.
    let (mut passes, mut total) = (0usize, 0.0f64);
    while passes == 0 || (a.timing && total < TIMED_SECONDS) {
        predicted.clear();
        let started = Instant::now();
        for e in &dataset.examples {
            let t = Instant::now();
            predicted.push(classifier.predict_bits(&e.text));
            latencies.push(t.elapsed().as_secs_f64());
        }
        total += started.elapsed().as_secs_f64();
        passes += 1;
    }
    let texts: Vec<&str> = dataset.examples.iter().map(|e| e.text.as_str()).collect();
    let (mut batch_passes, mut batch_seconds) = (0usize, 0.0f64);
    while batch_passes == 0 || (a.timing && batch_seconds < TIMED_SECONDS) {
        let batch_started = Instant::now();
        let batch = classifier.predict_bits_batch(&texts, 2);
        batch_seconds += batch_started.elapsed().as_secs_f64();
        batch_passes += 1;
        anyhow::ensure!(batch == predicted, "batch and one-by-one predictions differ");
    }
    let truth: Vec<(u64, u64)> = dataset.examples.iter().map(|e| (e.positive, e.known)).collect();
    let report = evaluate(&truth, &predicted, &labels, &evaluated);
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => print_table(&report, dataset.examples.len()),
    }
    if a.timing {
        latencies.sort_by(f64::total_cmp);
        let pct = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0.0) * 1e6;
        let timing = serde_json::json!({
            "messages": texts.len(),
            "passes": passes,
            "seconds": total,
            "messages_per_second": latencies.len() as f64 / total,
            "messages_per_second_2_threads": (texts.len() * batch_passes) as f64 / batch_seconds,
            "latency_us_median": pct(0.5),
            "latency_us_p99": pct(0.99),
            "latency_us_max": pct(1.0),
        });
        eprintln!("timing: {timing}");
    }
    Ok(())
}

fn print_table(report: &Evaluation, messages: usize) {
    println!("{messages} messages");
    println!("{:<34} {:>9} {:>9} {:>9} {:>8}", "label", "precision", "recall", "f1", "support");
    for (name, m) in report.dimensions.iter().chain(&report.themes) {
        println!("{name:<34} {:>9.3} {:>9.3} {:>9.3} {:>8}", m.precision, m.recall, m.f1, m.support);
    }
    let show = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.3}"));
    println!("macro-F1 (dimensions with support > 0): {}", show(report.macro_f1));
    println!("micro-F1 (same dimensions):             {}", show(report.micro_f1));
}

/// Seconds of repeated prediction behind `evaluate --timing` figures.
const TIMED_SECONDS: f64 = 0.5;

fn run_predict(a: PredictArgs) -> anyhow::Result<()> {
    let classifier = load_classifier(a.model.as_deref(), None)?;
    // one buffered writer: a flush per line cost more than the prediction
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Some(text) = &a.text {
        print_prediction(&mut out, &classifier, text, a.format, false)?;
    } else {
        let path = a.data.as_ref().expect("clap requires TEXT or --data");
        for text in read_texts(path, &a.text_column)? {
            print_prediction(&mut out, &classifier, &text, a.format, true)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn print_prediction(
    out: &mut impl Write,
    classifier: &Classifier,
    text: &str,
    format: Format,
    with_text: bool,
) -> std::io::Result<()> {
    let scores = classifier.predict(text);
    match format {
        Format::Json => {
            let labels: Vec<&str> = scores.iter().filter(|s| s.is_positive()).map(|s| s.label).collect();
            let probabilities: serde_json::Map<String, serde_json::Value> =
                scores.iter().map(|s| (s.label.to_string(), serde_json::json!(round3(s.probability)))).collect();
            let mut line = serde_json::json!({ "labels": labels, "probabilities": probabilities });
            if with_text {
                line["text"] = serde_json::json!(text);
            }
            writeln!(out, "{line}")
        }
        Format::Table => {
            if with_text {
                writeln!(out, "{text}")?;
            }
            for s in &scores {
                let mark = if s.is_positive() { "*" } else { " " };
                writeln!(out, "{mark} {:<34} {:.3} (threshold {:.3})", s.label, s.probability, s.threshold)?;
            }
            Ok(())
        }
    }
}

fn round3(p: f32) -> f64 {
    (p as f64 * 1000.0).round() / 1000.0
}

/// The analysts' corrections stored in `db` as training rows: one per
/// corrected report, its text with the dimensions and themes of its latest
/// correction (tags the model does not know are left out). Written through
/// the same reader as `--corrections`, so both paths check rows alike.
fn stored_corrections(
    db: &str,
    labels: &[String],
    group_offset: u32,
) -> anyhow::Result<Vec<vitalcore_classify::Example>> {
    use vitalcore_app::backend::Database;
    let database = Database::parse(db);
    if let Database::Sqlite(path) = &database
        && !path.exists()
    {
        anyhow::bail!("the database {db} does not exist (give the file passed as --db elsewhere)");
    }
    let store = database.open_reports()?;
    let mut latest: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for c in store.tag_corrections()? {
        let tags = c.dimensions.iter().chain(&c.themes).filter(|t| labels.contains(t)).cloned().collect();
        latest.insert(c.report.to_string(), tags);
    }
    let path = std::env::temp_dir().join(format!("vitalcore-corrections-{}.csv", std::process::id()));
    let mut w = csv::Writer::from_path(&path)?;
    w.write_record(["text", "dimensions"])?;
    for (reference, tags) in &latest {
        let reference: vitalcore_intake::Reference = reference.parse()?;
        let Some(report) = store.report(&reference)? else { continue };
        if report.text.trim().is_empty() {
            continue;
        }
        w.write_record([report.text.as_str(), tags.join(";").as_str()])?;
    }
    w.flush()?;
    drop(w);
    let rows = read_corrections(&path, labels, group_offset);
    let _ = std::fs::remove_file(&path);
    Ok(rows?)
}
