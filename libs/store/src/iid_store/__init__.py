"""IID data layer: models, sessions and the queries the API and the worker share."""
