"""Business Index: one trusted register of the businesses at a council's addresses.

Data flows one way through the stages, each a sub-package:
``sources`` (readers, one per real format) -> ``clean`` -> ``link`` -> ``derive`` -> ``store``
-> ``api``/``web``. ``synthetic`` generates test boroughs and ``evaluate`` scores builds; neither is
part of the pipeline. ``cli`` is a thin Typer layer over all of them.
"""

__version__ = "0.1.0"
