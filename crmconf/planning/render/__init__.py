"""Renderers read a plan and never change it."""
