"""Running a home: devices from configuration, the embedded demo peers, and `voltbridge run`."""
