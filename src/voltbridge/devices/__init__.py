"""Device capability protocols, the driver registry and in-process simulated devices."""
