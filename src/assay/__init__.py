"""assay: an open data engine for AI."""

from assay.client import AssayAPIError, Client

__all__ = ["AssayAPIError", "Client"]
__version__ = "0.1.0"
