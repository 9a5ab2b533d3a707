"""The national portal's published 766 figures as a source: the mapping of its API to a method, the import."""
