"""Scheduler process (STYLE.md 11): one module per job, each calling one service."""
