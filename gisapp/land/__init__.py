"""Land records: parcel lookup, search, history and edits (Flask-free)."""
