"""Augmentation is decided by (seed, epoch, index), not by the global RNG: a loader that
skips into an epoch (what ``--resume`` does mid-epoch) yields exactly the batches the
uninterrupted epoch had there, whatever the global RNG holds, with or without workers."""

from __future__ import annotations

import pickle

import pytest
import torch
from ltx_vision_igpt.config import DigitsConfig
from ltx_vision_igpt.data import DigitsDataModule

from ltx_core.sampling import EpochIndex, SkippableSampler


def _epoch(dm: DigitsDataModule, epoch: int, skip: int = 0) -> list[torch.Tensor]:
    loader = dm.train_dataloader()
    sampler = loader.sampler
    assert isinstance(sampler, SkippableSampler)
    sampler.set_epoch(epoch)
    sampler.skip_next(skip * loader.batch_size)  # type: ignore[operator]
    return [images for images, _labels in loader]


def _digits(workers: int = 0) -> DigitsDataModule:
    dm = DigitsDataModule(
        DigitsConfig(augment=True, shift=2, batch_size=64, num_workers=workers), seed=3
    )
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_a_skipped_into_epoch_augments_as_the_whole_epoch_did() -> None:
    torch.manual_seed(0)
    whole = _epoch(_digits(), epoch=1)
    torch.manual_seed(12345)  # a resumed process: the global RNG is anything
    rest = _epoch(_digits(), epoch=1, skip=5)
    assert len(rest) == len(whole) - 5
    for a, b in zip(whole[5:], rest, strict=True):
        assert torch.equal(a, b)


def test_epochs_augment_differently_and_the_augmentation_is_real() -> None:
    dm = _digits()
    first, second = _epoch(dm, epoch=0), _epoch(dm, epoch=1)
    assert not all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    plain = DigitsDataModule(DigitsConfig(augment=False, batch_size=64), seed=3)
    plain.prepare_data()
    plain.setup("fit")
    assert not all(torch.equal(a, b) for a, b in zip(first, _epoch(plain, epoch=0), strict=True))


@pytest.mark.slow
def test_loader_workers_augment_as_the_main_process_does() -> None:
    torch.manual_seed(0)
    inline = _epoch(_digits(workers=0), epoch=2)
    with_workers = _epoch(_digits(workers=2), epoch=2)
    for a, b in zip(inline, with_workers, strict=True):
        assert torch.equal(a, b)


def test_an_epoch_index_keeps_its_epoch_through_pickling() -> None:
    index = pickle.loads(pickle.dumps(EpochIndex(17, 4)))
    assert (index, index.epoch, index + 1) == (17, 4, 18)
