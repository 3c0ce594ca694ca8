"""history domain: a region's results year by year, computed here or imported."""
