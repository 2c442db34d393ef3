"""The clients pages' parts."""
