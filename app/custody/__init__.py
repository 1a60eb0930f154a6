"""Custody: a batch handed from one organization to another by an explicit transfer."""
