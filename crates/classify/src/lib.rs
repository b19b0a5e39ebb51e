//! vitalcore-classify
