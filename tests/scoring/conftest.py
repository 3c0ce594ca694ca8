"""The property tests' Hypothesis profile. CI runs on 2 shared, noisy cores, where one draw or
one example can stall for a second for the machine's reasons, not the code's (a CI run failed
the too-slow health check on a single 1.55 s draw): no deadline, and slow generation is no
failure. How many examples and which strategies stay as each test says."""

from hypothesis import HealthCheck, settings

settings.register_profile("iid", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("iid")
