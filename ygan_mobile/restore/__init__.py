"""Image restoration with the yGAN method: domain A is a degraded copy of domain B (docs/restore.md)."""
