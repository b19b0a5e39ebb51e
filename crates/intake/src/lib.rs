//! vitalcore-intake
