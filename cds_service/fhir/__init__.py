"""Reading the patient's FHIR data: prefetch templates, prefetch-or-fetch, the FHIR client."""
