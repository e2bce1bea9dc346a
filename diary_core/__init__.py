"""The diary domain: entities, rules and use cases. Knows nothing of HTTP, ESIA, XML or signing."""
