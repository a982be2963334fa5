"""Raw files -> typed per-file Parquet parts -> accepted rows and quarantine, incrementally."""
