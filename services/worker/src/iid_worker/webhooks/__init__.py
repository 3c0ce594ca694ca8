"""Webhooks in the worker: events derived from the change log (`events`), written per matching
subscription by the dispatcher in one transaction with its cursor (`dispatch`), delivered
signed to safe targets with retries (`delivery`, `targets`), by a loop woken when the
sequencer numbers new changes (`loop`)."""
