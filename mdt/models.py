# The models of this app arrive with its feature issue.
