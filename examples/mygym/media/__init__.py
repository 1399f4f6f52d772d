"""What a user sees: overlays of maps on frames, composite videos, MP4
writing and live windows."""
