"""The knowledge base: articles in Spanish and English, their search, votes and reading
events, and the desk's report on them (issue 19)."""
