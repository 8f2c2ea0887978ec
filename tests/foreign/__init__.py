"""Tests of healthcred.foreign."""
