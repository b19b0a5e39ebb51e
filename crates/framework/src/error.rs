use thiserror::Error;

/// Why a framework file could not be used. Each variant names the key to fix.
#[derive(Debug, Error)]
pub enum FrameworkError {
    #[error("the framework file is not valid TOML: {0}")]
    Syntax(String),
    #[error("framework key `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

impl FrameworkError {
    pub(crate) fn invalid(key: impl Into<String>, problem: impl Into<String>) -> Self {
        FrameworkError::Invalid { key: key.into(), problem: problem.into() }
    }
}
