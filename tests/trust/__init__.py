"""Tests of healthcred.trust."""
