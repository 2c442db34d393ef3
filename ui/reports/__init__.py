"""The reports pages' parts."""
