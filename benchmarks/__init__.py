"""Benchmarks of localskills-pulumi against the Terraform resource's strategy and the physical
limit.

Not part of the ``localskills_pulumi`` package: run from the project root with
``python -m benchmarks.run`` (see ``docs/benchmarks.md``). The providers here are importable as
``benchmarks.baseline`` and ``benchmarks.null`` so that ``__provider`` pickles them by reference
and a host started in the project root can load them.
"""
