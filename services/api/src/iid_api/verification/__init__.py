"""verification domain: verifiers decide on each claimed answer and may reject innovations."""
