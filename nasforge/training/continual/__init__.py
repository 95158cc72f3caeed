"""Continual learning on class-incremental streams: PST freezing, the stream runner, CGaP, AL."""
