//! vitalcore-import
