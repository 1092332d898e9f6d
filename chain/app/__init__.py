"""The deterministic state machine. No I/O, no clock, no network: every input arrives as an argument."""
