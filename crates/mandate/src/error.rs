use thiserror::Error;

/// Why a file, folder or request could not be read. Each names the file
/// and what was expected.
#[derive(Debug, Error)]
pub enum MandateError {
    #[error("{file}: cannot read: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: not UTF-8 text ({detail}); expected an Akoma Ntoso XML resolution")]
    Encoding { file: String, detail: String },
    #[error(
        "{file}: malformed XML at line {line}, column {column}: {reason}; expected an Akoma Ntoso (AKN4UN) resolution"
    )]
    Xml { file: String, line: u32, column: u32, reason: String },
    #[error("{file}: not an Akoma Ntoso document: the root element is {found}, expected <akomaNtoso>")]
    NotAkn { file: String, found: String },
    #[error("{file}: {what} is missing: expected {expected}")]
    Missing { file: String, what: String, expected: String },
    #[error("{file}, line {line}: not a JSON object of the data extract ({reason}); expected one resolution per line")]
    Extract { file: String, line: usize, reason: String },
    #[error("{path}: no .xml file here or in its subfolders; expected Akoma Ntoso resolutions (S_RES_*.xml)")]
    Empty { path: String },
    #[error("the term is empty: give at least one letter or digit, e.g. --term stabiliz")]
    EmptyTerm,
}
