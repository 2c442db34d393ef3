"""What every page shares: the page context and guard, the notice after an action (flash),
escaped tables, tabs, the pager under a paged list (paging) and the settings' list-and-edit
pattern (crud)."""
