"""Tests of healthcred.crypto."""
