"""Where a bundle keeps the runs it was built from: the one definition every stage, `ygan eval` and
`ygan bench` read (the file names are the checkpoint modules' own)."""

from distill.checkpoint import FILENAME as STUDENT_FILE
from ygan_mobile.checkpoint import FILENAME as TEACHER_FILE
from ygan_mobile.train import SUMMARY

TEACHER = "checkpoints/teacher"
STUDENT = "checkpoints/student"
TEACHER_CKPT = f"{TEACHER}/{TEACHER_FILE}"
STUDENT_CKPT = f"{STUDENT}/{STUDENT_FILE}"
TEACHER_SUMMARY = f"{TEACHER}/{SUMMARY}"
STUDENT_SUMMARY = f"{STUDENT}/{SUMMARY}"
