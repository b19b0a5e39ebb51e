//! vitalcore-store
