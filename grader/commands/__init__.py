"""One module per CLI command; each registers its arguments and runs on a parsed namespace."""
