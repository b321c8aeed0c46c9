"""Helpers shared by the tests."""

from pomodoro_core.core.presets import get_preset
from pomodoro_core.training.denoiser import ModelConfig
from pomodoro_core.training.trainer import TrainConfig


def quick(**kw) -> TrainConfig:
    """A tiny training configuration (4 steps, batch 4, a 16-wide one-block model) for fast tests."""
    base = dict(steps=4, batch_size=4, model=ModelConfig(width=16, heads=2, blocks=1))
    return TrainConfig.from_preset(get_preset("pomodoro-v0.9.0"), **(base | kw))
