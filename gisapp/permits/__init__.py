"""Permit pre-checks: rules as versioned data, site measurement, evaluation, storage."""
