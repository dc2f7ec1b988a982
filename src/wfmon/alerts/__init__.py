"""Alerting: rules → lifecycle → silences/flapping → grouping → outbox → notifiers.

Every decision is a pure function of stored facts and `now` (rules, lifecycle, flapping,
grouping, silences, notices, outbox); `service` loads the facts and writes the outcome in
one transaction, `sender` delivers the outbox. See docs/alerting.md.

This package's `__init__` stays empty of imports: the config schema imports its specs, and
the service must not be pulled in with them.
"""
