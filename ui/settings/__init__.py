"""The settings page's tabs: team, catalog, desk and automation."""
