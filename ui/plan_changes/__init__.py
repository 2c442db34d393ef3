"""The plan_changes pages' parts."""
