"""Typed refusals whose message can be shown to a person as it is."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal from the shop's services; ``str(error)`` is the message for staff."""

    exit_code = 1


class InvalidInput(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class NotAllowed(ServiceError):
    pass


class Conflict(ServiceError):
    """The record changed elsewhere or a rule about its state forbids the action."""
