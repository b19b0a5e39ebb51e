//! vitalcore-index
