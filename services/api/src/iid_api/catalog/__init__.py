"""catalog: what rarely changes (periods, editions, regions, an innovation entry's home), read
through the process caches."""
