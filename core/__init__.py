"""The shared vocabulary of bakeoff: scenario model, environments, executor contract, errors.

A leaf: bench/ (measuring), stacks/ (provisioning) and scoring/ (deciding) import it, and
it imports none of them, so each of those packages can be read and tested on its own.
"""
