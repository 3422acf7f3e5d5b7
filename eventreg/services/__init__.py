"""The rules of the service, one job per module."""
