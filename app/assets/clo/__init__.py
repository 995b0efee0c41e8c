"""CLO/CDO collateral: Moody's tables, quality tests, projection, deal analysis."""
