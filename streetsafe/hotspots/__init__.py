"""Hotspot layers: rollups kept by triggers, filters, aggregation, Gi*, disclosure, formats."""
