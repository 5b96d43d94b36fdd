"""Cloud sites: one Pulumi program per provider behind one input spec and one output shape.

`spec.CloudSiteSpec` is everything a program needs (no scenario parsing inside programs);
each provider module (`aws`, `azure`, `gcp`) exposes `program(spec)` that declares the
resources and exports `spec.OUTPUT_KEYS`, so the lifecycle and the tests treat the three
clouds alike.
"""
