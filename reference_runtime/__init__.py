"""The phone's side of the toolchain: runs a bundle with numpy and mobile runtimes only.

Never imports torch, tensorflow, ygan_mobile, distill or convert.
"""
