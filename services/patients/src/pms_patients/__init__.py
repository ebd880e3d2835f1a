"""Patient records, their audit trail and their events."""
