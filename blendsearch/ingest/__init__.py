"""Reading catalogues and their images, and the bulk ingest pipeline."""
