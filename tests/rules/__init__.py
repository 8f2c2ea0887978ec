"""Tests of healthcred.rules."""
