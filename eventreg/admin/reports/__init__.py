"""Reports for organisers: attendance downloads and statistics with charts."""
