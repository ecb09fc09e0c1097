"""assay: an open data engine for AI."""

from assay.client import AssayAPIError, AssayConnectionError, Client

__all__ = ["AssayAPIError", "AssayConnectionError", "Client"]
__version__ = "0.1.0"
