"""One-shot (weight-sharing) architecture search and low-precision search; imports torch lazily."""
