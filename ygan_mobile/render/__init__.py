"""The patch-render pipeline (docs/pipeline.md).

torch_pipeline.py  spec v1, the parity core in torch (the original the artifacts are compared to)
theme_map.py       theme-map rule: luminance bands
random_crops.py    random overlapping crops until a coverage
salient.py         salient patches only
stereo.py          stereoscopic pairs
renderer.py        every option composed into frame → frame (feedback, stereo, --patch resizing)
video.py           videos frame by frame
command.py         `ygan render`'s arguments and run (ygan/cli.py wires it in)
"""
