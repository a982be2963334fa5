"""Key-account steering: the scoring matrix and lifecycle configuration, designation history."""
