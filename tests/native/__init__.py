"""Tests of healthcred.native."""
