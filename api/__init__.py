"""landready's web API (FastAPI) and command line."""
