"""directory domain: the public innovation directory (search, detail, similar, replications,
recognitions) and the feed other portals read."""
