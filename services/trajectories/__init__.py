"""Trajectories: plan, evaluations, logbook, closing, and the page staff see."""
