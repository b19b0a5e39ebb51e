use std::path::PathBuf;

/// Everything that can go wrong when reading a tree, a workbook or an indicator table.
/// Messages name the file, the node or column, and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{source_name}: not a valid index tree: {message}")]
    TreeSyntax { source_name: String, message: String },
    #[error("{source_name}: node \"{node}\", key `{key}`: {message}")]
    TreeNode { source_name: String, node: String, key: String, message: String },
    #[error("{source_name}: {message}")]
    TreeStructure { source_name: String, message: String },
    #[error("{path}: cannot read the file: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot read the workbook: {message}")]
    Workbook { path: PathBuf, message: String },
    #[error("{path}: sheet \"{sheet}\": {message}")]
    Sheet { path: PathBuf, sheet: String, message: String },
    #[error("{path}, line {line}: {message}")]
    Table { path: String, line: u64, message: String },
}
