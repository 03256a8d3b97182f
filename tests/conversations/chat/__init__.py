"""Tests of conversations/chat/."""
