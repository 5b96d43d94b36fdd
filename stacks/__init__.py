"""Provisioning: one contract (stacks.contract), several implementations."""
