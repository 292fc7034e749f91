"""Client model files: intake checks, loading, measuring, unit guessing and simple repair."""
