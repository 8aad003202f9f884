"""PresGen's own PresGen-Avatar API (served from the studio and the pipeline)."""
