"""The spec's scripts (`scripts.etl_metadata`, `run_ocr.py`, `sync_ocr.py`) on recto."""
