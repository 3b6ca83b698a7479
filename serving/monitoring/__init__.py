"""Model monitoring over HTTP: the newest drift summary and report, realised performance per month."""
