"""What every page shares: the page context and guard, the notice after an action (flash),
escaped tables, tabs, ids read from the URL (ids), the pager under a paged list (paging) and
the settings' list-and-edit pattern (crud)."""
