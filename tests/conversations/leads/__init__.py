"""Tests of conversations/leads/."""
