"""Regenerate the workload parameter reference in docs/scenario.md from the params models."""

from bakeoff.scenario_docs import main

if __name__ == "__main__":
    main()
