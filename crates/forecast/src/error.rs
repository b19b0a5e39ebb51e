use thiserror::Error;

/// What can go wrong when building a panel, fitting or backtesting.
#[derive(Debug, Error)]
pub enum ForecastError {
    #[error("no events could be placed in a {unit} unit: the events lack {what}; try another --unit")]
    NoUnits { unit: String, what: &'static str },
    #[error("the backtest origins {start}..{end} fall outside the data, which runs from {first} to {last}")]
    OriginsOutsideData { start: String, end: String, first: String, last: String },
    #[error("origin {origin} leaves fewer than {needed} months of history to train on (data start {first})")]
    TooLittleHistory { origin: String, needed: usize, first: String },
    #[error("horizons must be 1 or more: got {0}")]
    BadHorizon(usize),
    #[error("unknown model `{0}`: use zero, last, conflictology, bootstrap, hurdle or ensemble")]
    UnknownModel(String),
    #[error("the score input is inconsistent: {0}")]
    BadScoreInput(String),
}
