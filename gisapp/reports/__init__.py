"""Reports: the parcel report and the printable pages' small maps."""
