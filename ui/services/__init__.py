"""The services pages' parts."""
