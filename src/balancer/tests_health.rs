//! Shared member health.
