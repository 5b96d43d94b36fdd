"""Executors run commands on a host. Local and SSH behave the same to workloads."""

from core.executor import BackgroundProcess, CommandResult, Executor

__all__ = ["BackgroundProcess", "CommandResult", "Executor"]
