"""The home pages' parts."""
