"""The daemon's own health: checks it runs on itself and its target, stored as rows."""
