"""Student checkpoints round-trip through safetensors and refuse the wrong kind of file."""

import pytest
import torch

from distill import checkpoint
from distill.config import DistillConfig, apply_overrides, build
from distill.losses import make_adapters
from distill.students import StudentConfig, StudentModels
from ygan_mobile.errors import YganError
from ygan_mobile.models import ModelConfig, YGan


def test_save_then_load_student_gives_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    teacher = YGan.create(ModelConfig(16, 16, 8), ["a", "b"])
    student = StudentModels.create(StudentConfig(16, 16, 4), ["a", "b"])
    adapters = make_adapters(student, teacher)
    opt = torch.optim.Adam(student.encoder.parameters())
    cost = {"teacher": {"macs": 10, "params": 5}, "student": {"macs": 1, "params": 1}, "mac_ratio": 10.0, "param_ratio": 5.0}
    checkpoint.save(tmp_path, student, adapters, opt, 7, DistillConfig.from_dict({}), cost, {"path": "t"}, {})
    loaded, ckpt = checkpoint.load_student(tmp_path)
    assert (ckpt.step, ckpt.themes, ckpt.cost, ckpt.student) == (7, ["a", "b"], cost, student.cfg)
    student.eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded.patch_model("b")(x), student.patch_model("b")(x))
    assert not loaded.patch_model("a").training


def test_a_teacher_checkpoint_is_refused(tmp_path):
    from ygan_mobile import checkpoint as teacher_checkpoint
    from ygan_mobile.config import Config

    model = YGan.create(ModelConfig(8, 8, 4), ["a"])
    path = teacher_checkpoint.save(tmp_path / "t.safetensors", model, {}, 0, Config.from_dict({}), {})
    with pytest.raises(YganError, match="not a student checkpoint"):
        checkpoint.load_student(path)
    with pytest.raises(YganError, match="not found"):
        checkpoint.load_student(tmp_path / "missing")


def test_overrides_keep_types_and_reject_unknown_keys():
    cfg = build("quick", ["student.width=5", "train.lr=1"])
    assert cfg.student.width == 5 and cfg.train.lr == 1.0
    for bad in ["student.colour=1", "train.steps=fast", "nonsense", "train.batch=1"]:
        with pytest.raises(YganError):
            build("quick", [bad])
    assert apply_overrides({}, []) == {}
