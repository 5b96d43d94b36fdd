"""The names of the functions a function site deploys (bench/serverless/functions.py).

A leaf, so the provisioning side (stacks/local_function.py) can list them in
env.notes["function"] without importing the measuring side; tests/test_layering.py checks
that the implementations in bench/serverless/functions.py are exactly these.
"""

FUNCTION_NAMES: tuple[str, ...] = ("checkout", "hello")
