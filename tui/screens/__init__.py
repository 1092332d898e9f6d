"""One module per screen of the member UI."""
