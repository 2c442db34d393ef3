"""The help centre ("Ayuda", /help): reading, searching and rating articles; the desk's
editor; the ticket form's suggestions; the report tab."""
