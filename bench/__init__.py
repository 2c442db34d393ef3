"""Scale benchmark: generate a realistic book, measure pages, automation, exports and load."""
