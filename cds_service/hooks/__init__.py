"""The CDS Hooks services: declarations (discovery), the hook endpoint, one handler per
hook, the resolve-then-assess pipeline, and POST /assessment."""
