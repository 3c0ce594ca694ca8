"""rankings domain: rankings, region history, national summary."""
