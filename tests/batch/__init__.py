"""Tests of healthcred.batch."""
