"""Integrations with other tools, each an extra (``pip install "paradedup[scrapy]"``);
importing :mod:`dedup` imports none of them."""
