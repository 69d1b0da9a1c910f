"""meaningmaps: automatic meaning maps (Henderson & Hayes 2017), exact to the Hayes toolkit.

One module per concept; the Snakemake rules in ``rules/`` call them through ``scripts/``.
"""

__version__ = "0.1.0"
