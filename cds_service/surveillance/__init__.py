"""Relapse surveillance for a whole clinic: a Bulk FHIR export in, a worklist out, on Dask.

A CDS hook speaks only when a chart is opened; a biochemical relapse shows in a result nobody
opens. `myeloma-cds surveil` reads a Bulk Data export (a folder of NDJSON files, or a FHIR
server's `$export`), groups the resources by patient with Dask's shuffle, runs the hooks' own
assessment (pipeline.assess_resources) per patient and writes a worklist (CSV, FHIR Tasks,
HTML report).

Modules: ndjson (reading lines, tying resources to patients), bulk_export (the `$export`
client), run (the Dask graph and its schedulers), worklist (rows, urgency, CSV and Task
writers), report (HTML), command (the CLI subcommand).
"""
