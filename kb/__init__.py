"""policy-kb: a knowledge base and measure extractor for CCS policy records."""

__version__ = "0.1.0"
