"""Tests of healthcred.codec."""
