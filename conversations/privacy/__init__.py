"""GDPR: data-subject rights (access, erasure, objection) and their delivery, the request
desk, retention, the access log, the generated privacy notice, data residency, and the daily
housekeeping tasks."""
