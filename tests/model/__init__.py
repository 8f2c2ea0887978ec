"""Tests of healthcred.model."""
