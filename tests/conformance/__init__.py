"""Tests of healthcred.conformance."""
