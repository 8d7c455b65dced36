"""Planning analysis: drainage tracing, lighting, Wi-Fi coverage, area queries, ward summaries."""
