"""`python -m iid_store.seed [--no-demo]`."""

from iid_store.seed import main

main()
