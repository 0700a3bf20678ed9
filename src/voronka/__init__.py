"""Voronka: a sales-department control system."""
