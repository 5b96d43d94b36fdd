"""Executors run commands on a host. Local and SSH behave the same to workloads."""

from bench.executors.base import BackgroundProcess, CommandResult, Executor

__all__ = ["BackgroundProcess", "CommandResult", "Executor"]
