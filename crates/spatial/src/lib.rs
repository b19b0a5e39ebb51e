//! vitalcore-spatial
