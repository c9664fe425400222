"""The luma weights of ITU-R BT.601 (Pillow's "L" conversion): every luminance the teacher side
computes — theme bands, the judge's input, greyscale degradation, the hue rotation's YIQ axis — is
taken with these, written once here."""

BT601 = (0.299, 0.587, 0.114)  # R, G, B
