"""Tests of healthcred.printing."""
