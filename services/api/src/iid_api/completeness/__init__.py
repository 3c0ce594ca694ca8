"""completeness domain: what a region still has to answer, evidence or fix before sending."""
