//! vitalcore-store-sqlite
