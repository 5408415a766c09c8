"""Checkpoints of a training run: weights, optimizer moments and loop state, without pickle
(safetensors + JSON), so ``resume=True`` continues at the same step, schedule and elapsed time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blendsearch.index_state import atomic_write_text
from blendsearch.train.trainees import OwnTrainee, Trainee

if TYPE_CHECKING:
    import torch

__all__ = ["CHECKPOINT_DIR", "STATE_FILE", "load_checkpoint", "save_checkpoint"]

#: The checkpoint's folder inside a run's output folder.
CHECKPOINT_DIR = "checkpoint"
#: The loop state and run config of a checkpoint (JSON).
STATE_FILE = "state.json"


def save_checkpoint(
    trainee: Trainee, optimizer: torch.optim.Optimizer, state: dict[str, Any], folder: Path
) -> None:
    """Weights, optimizer moments and loop state, without pickle (safetensors + JSON)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in trainee.module.state_dict().items()}
    opt_state = optimizer.state_dict()
    for index, entry in opt_state["state"].items():
        for name, value in entry.items():
            tensors[f"optim.{index}.{name}"] = (
                value.detach().cpu().contiguous() if hasattr(value, "detach") else _scalar_tensor(value)
            )
    if isinstance(trainee, OwnTrainee):
        trainee.save_tokenizer(folder)
    tmp = folder / "state.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, folder / "state.safetensors")
    meta = {**state, "param_groups": opt_state["param_groups"]}
    atomic_write_text(folder / STATE_FILE, json.dumps(meta))


def _scalar_tensor(value: float) -> torch.Tensor:
    import torch

    return torch.tensor(value)


def load_checkpoint(
    trainee: Trainee, optimizer: torch.optim.Optimizer, folder: Path, device: str
) -> dict[str, Any]:
    """Restore weights and optimizer state into ``trainee``/``optimizer``; returns the loop state."""
    from safetensors.torch import load_file

    meta = json.loads((folder / STATE_FILE).read_text())
    tensors = load_file(str(folder / "state.safetensors"), device=device)
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    trainee.module.load_state_dict(model_state)
    opt_state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            opt_state.setdefault(int(index), {})[name] = value.cpu() if name == "step" else value
    optimizer.load_state_dict({"state": opt_state, "param_groups": meta.pop("param_groups")})
    return meta
