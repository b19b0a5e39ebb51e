//! vitalcore-proto
