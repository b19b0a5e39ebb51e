//! vitalcore-framework
