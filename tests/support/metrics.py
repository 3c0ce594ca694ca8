"""Reading Prometheus metrics in tests: a sample's value from a scraped text, or from this
process's own registry."""

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families


def scraped(text: str, name: str, **labels: str) -> float:
    """The value of the sample `name` with exactly these labels in a scrape (0 if absent, as
    Prometheus reads a counter that was never incremented)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def local(name: str, **labels: str) -> float:
    """The value of a sample in this process's default registry (0 if absent)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
