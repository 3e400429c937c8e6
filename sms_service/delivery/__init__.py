"""Delivery: the transports that send texts, the send window, and delivery reports."""
