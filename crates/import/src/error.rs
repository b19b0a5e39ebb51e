use thiserror::Error;

/// Why a whole file could not be read. Row-level problems are [`crate::Reject`]s.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read {file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: not a file vitalcore can import. {found}. Expected {expected}")]
    Unrecognised { file: String, found: String, expected: String },
    #[error("{file} is {found}, but {wanted} was expected here")]
    WrongKind { file: String, found: String, wanted: String },
    #[error("{file}: {problem}")]
    MissingColumns { file: String, problem: String },
    #[error("{file}, line {line}: {problem}")]
    Malformed { file: String, line: u64, problem: String },
    #[error("{file}: not an HXL table: {problem}")]
    NotHxl { file: String, problem: String },
    /// Two rows with one event id and different content (other than the
    /// actors of consecutive rows, which are one event, see [`crate::monadic`]).
    #[error(
        "{file}: event `{id}` appears twice with different content, at lines {first_line} and {second_line}; \
         keep one of the two rows"
    )]
    Conflict { file: String, id: String, first_line: u64, second_line: u64 },
    /// The [`crate::Sink`] that took the events refused one (e.g. the store
    /// found a conflict); reading stopped there.
    #[error(transparent)]
    Stopped(Box<dyn std::error::Error + Send + Sync>),
}

impl ImportError {
    pub(crate) fn io(file: &str, e: impl std::fmt::Display) -> ImportError {
        ImportError::Io { file: file.to_string(), reason: e.to_string() }
    }
}
