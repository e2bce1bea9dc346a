"""The demo's gateway side: what the demo school looks like to the ESIA emulator."""
