//! vitalcore-store-postgres
