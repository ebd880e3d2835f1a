"""Billing accounts and invoices, over gRPC and REST."""
