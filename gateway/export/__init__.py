"""A person's own data on request (152-FZ, article 14): the archive (docs/personal-data.md)
and the family's page of who read their child's data."""
