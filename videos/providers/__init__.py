"""Video providers behind one protocol: the built-in studio and remote services."""
