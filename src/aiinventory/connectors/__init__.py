"""Where inputs come from. Each source kind discovers items with fingerprints."""
