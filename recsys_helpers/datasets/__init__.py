"""Dataset builders and loaders behind :func:`recsys_helpers.data.load`."""
