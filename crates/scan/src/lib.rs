//! vitalcore-scan
