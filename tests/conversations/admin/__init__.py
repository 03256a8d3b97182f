"""Tests of conversations/admin/."""
