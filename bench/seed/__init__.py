"""The seed's manual conversion pipeline, one script per process (benchmark 2's baseline)."""
