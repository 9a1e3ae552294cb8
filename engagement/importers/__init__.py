"""Importers: WordPress WXR, Disqus XML, Isso SQLite and our own JSON Lines, through one pipeline."""
