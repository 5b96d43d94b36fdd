"""Building price snapshots from the providers' own price APIs (`bakeoff prices refresh`)."""
