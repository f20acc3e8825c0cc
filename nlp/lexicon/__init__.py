"""Data files of the classifier's lexicon (a package so that they ship with the wheel)."""
