"""The account pages' parts."""
