"""Tests of conversations/api/."""
