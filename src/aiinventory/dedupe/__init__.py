"""Grouping source records into use cases and building each use case's golden record."""
