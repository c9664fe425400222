"""Mosaic quality (DESIGN §11): does a render show its theme, keep its input's structure, and vary?

judge.py trains the luminance-only judge; metrics.py holds the three numbers and the baselines;
heldout.py picks the photographs and theme tiles that neither the teacher nor the judge trained on.
"""
