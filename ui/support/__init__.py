"""The tickets page's parts: the thread, the forms and what they share."""
