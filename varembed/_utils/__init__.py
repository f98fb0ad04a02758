"""Private helpers shared by every varembed module: validation, random streams, devices, threads."""
