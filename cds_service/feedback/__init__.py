"""Clinician feedback on cards: stored (store), received (routes), reported (report)."""
