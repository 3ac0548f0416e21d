"""/metrics and /healthz (docs/deployment.md, "Monitoring")."""
