"""The member terminal UI (`conclave tui`): a Textual app that talks to one node through its HTTP API
and its /events websocket only. tui/app.py is the app; tui/screens/ holds one module per screen."""
