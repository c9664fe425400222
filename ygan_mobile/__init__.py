"""ygan-mobile: the full-size yGAN, its training, and the PyTorch patch-render pipeline."""

__version__ = "0.1.0"  # the one place: pyproject.toml reads it, the CLI and every manifest print it
