"""The API contract: group, kinds and the CRD schemas generated from one model."""
