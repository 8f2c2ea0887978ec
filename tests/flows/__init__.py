"""Tests of healthcred.flows."""
