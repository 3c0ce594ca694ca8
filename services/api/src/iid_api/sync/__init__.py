"""sync domain: the region's change feed the mobile app syncs from (a view of the change log)."""
