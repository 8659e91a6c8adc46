"""Batch runs of the model: specifications, execution, storage and analysis."""
