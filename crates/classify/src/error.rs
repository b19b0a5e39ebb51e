use std::path::PathBuf;

/// Everything that can go wrong when reading data, training or loading a model.
/// Messages name the file, line and field, and say what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{path}: line {line}: {message}")]
    Csv { path: PathBuf, line: u64, message: String },

    #[error("{path}: there is no column `{column}` (columns found: {found})")]
    MissingColumn { path: PathBuf, column: String, found: String },

    #[error("{path}: line {line}, column `{column}`: `{value}` is not a label value; use 0 or 1")]
    BadLabelValue { path: PathBuf, line: u64, column: String, value: String },

    #[error("{path}: line {line}: `{id}` is neither a dimension nor a theme id (known: {known})")]
    UnknownLabel { path: PathBuf, line: u64, id: String, known: String },

    #[error("lexicon {origin}: {message}")]
    Lexicon { origin: String, message: String },

    #[error("{path}: not a vitalcore classifier model (the file does not start with the model signature)")]
    NotAModel { path: PathBuf },

    #[error(
        "{path}: model file format version {found} is not supported by this vitalcore (it reads version {supported}); retrain with `vitalcore classify train`"
    )]
    UnsupportedVersion { path: PathBuf, found: u32, supported: u32 },

    #[error("{path}: the model file is damaged: {message}")]
    CorruptModel { path: PathBuf, message: String },

    #[error("no training examples: {0}")]
    NoExamples(String),

    #[error("too many labels ({0}); a classifier handles at most 64 dimensions and themes")]
    TooManyLabels(usize),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }
}
