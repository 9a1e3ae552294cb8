"""Export of a site as JSON Lines, and the record format the JSON importer reads back."""
