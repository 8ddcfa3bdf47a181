"""segmint: customer segmentation from raw data to named, stable segments."""

__version__ = "0.1.0"
