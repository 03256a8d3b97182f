"""Tests of conversations/privacy/."""
