"""Tests of healthcred.cli."""
