"""Metadata generated from an item's image at ingest: dominant colours, zero-shot tags, a description."""
