"""Conventions every tool shares: command-line errors and exit statuses
(``cli``) and outputs written whole or not at all (``outputs``)."""
