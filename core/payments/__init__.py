"""Stripe: Checkout sessions for invoices, webhook events applied to the books, reconciliation."""
