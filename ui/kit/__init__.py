"""What every page shares: the page context and guard, escaped tables and tabs."""
