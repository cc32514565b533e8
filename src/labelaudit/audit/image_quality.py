"""Image checks that judge each image on its own measurements: ``dark``, ``light``, ``blurry``,
``low_information``, ``odd_size``, ``odd_aspect_ratio`` and ``grayscale``.

They read the measurements of :mod:`labelaudit.io.images` (one pass over the files, shared by
every image check) and run by default whenever :meth:`labelaudit.Audit.run` is given
``images``. Each gives a score in [0, 1] (1 = nothing odd) and flags an image exactly when its
score is at most the check's ``threshold``:

* ``dark``: the 99th percentile of the luminance (so even the brightest pixels are dark), flagged
  at or below 0.2; ``light``: one minus its 1st percentile (even the darkest pixels are bright),
  flagged at or below 0.1. Exposure is absolute, so these two compare with fixed levels.
* ``blurry``: sharpness (the Laplacian's spread over the contrast) relative to the dataset's
  median; ``low_information``: the luminance histogram's entropy relative to the median;
  ``odd_size``: the side of the equal-area square relative to the median, both ways
  (``min(s / m, m / s)``); ``odd_aspect_ratio``: width over height relative to the median, both
  ways. What counts as sharp, busy, large or wide depends on the domain (upscaled digits are all
  soft, satellite tiles all square), so these compare an image with the rest of its dataset and
  flag the few that stand out (when most images share a defect, the median does too).
* ``grayscale``: the fraction of pixels with colour over 1%, capped at 1: an image with no colour
  in a dataset whose typical image has colour (a grey dataset flags nothing).

An image that could not be read has a NaN score and is never flagged; an image of one shade has
no sharpness and is left out of ``blurry`` (``low_information`` flags it).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from labelaudit._validate import check_threshold
from labelaudit.audit._base import Check, CheckResult, register_check
from labelaudit.audit._inputs import AuditInputs

COLOURED = 0.01  # the fraction of coloured pixels above which an image counts as colour


def typical_value(values: np.ndarray) -> float:
    """The median of ``values`` ignoring NaN (NaN when none is finite).

    >>> typical_value(np.array([3.0, np.nan, 1.0])), typical_value(np.array([np.nan]))
    (2.0, nan)
    """
    return float(np.nanmedian(values)) if np.isfinite(values).any() else float("nan")


def relative_to_typical(values: np.ndarray, *, both_ways: bool = False) -> tuple[np.ndarray, float]:
    """``values`` over their median (NaN ignored), capped at 1, and that median; with
    ``both_ways`` also the median over the value, whichever is smaller.

    >>> score, typical = relative_to_typical(np.array([1.0, 2.0, 2.0, 8.0, np.nan]), both_ways=True)
    >>> score.tolist(), typical
    ([0.5, 1.0, 1.0, 0.25, nan], 2.0)
    """
    typical = typical_value(values)
    if not typical > 0:
        return np.where(np.isnan(values), np.nan, 1.0), typical
    ratio = values / typical
    if both_ways:
        ratio = np.minimum(ratio, 1 / ratio)
    return np.minimum(ratio, 1.0), typical


def _column(measurements: pd.DataFrame, name: str) -> np.ndarray:
    return measurements[name].to_numpy(np.float64)


class ImageMeasureCheck(Check):
    """Base of the checks that score each image from its measurements (see the module).

    Subclasses set ``name``, ``params`` (with ``threshold``) and ``described`` (what the score
    measures, for the notes), and implement :meth:`score`.
    """

    needs = (("images",),)
    default_when_given = "images"
    described: ClassVar[str] = ""

    def score(self, measurements: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
        """The score of every image (NaN where it cannot be measured) and details for ``info``."""
        raise NotImplementedError

    def run(self, inputs: AuditInputs, *, threshold: float) -> CheckResult:
        threshold = check_threshold(threshold)
        score, info = self.score(inputs.images)
        measured = ~np.isnan(score)
        is_issue = measured & (np.where(measured, score, 1.0) <= threshold)
        notes = [f"{int(is_issue.sum())} images whose {self.described} is at most {threshold:g}."]
        if not measured.all():
            notes.append(f"{int((~measured).sum())} images could not be measured.")
        return CheckResult(
            is_issue=is_issue,
            score=score,
            summary_score=1.0 - float(is_issue.mean()),
            info={"threshold": threshold, **info},
            notes=notes,
        )


@register_check
class DarkCheck(ImageMeasureCheck):
    """Images whose brightest pixels are dark (score: the luminance's 99th percentile)."""

    name = "dark"
    params: ClassVar[dict[str, Any]] = {"threshold": 0.2}
    described = "99th-percentile luminance"

    def score(self, measurements: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
        return _column(measurements, "luminance_p99"), {}


@register_check
class LightCheck(ImageMeasureCheck):
    """Images whose darkest pixels are bright (score: one minus the 1st percentile)."""

    name = "light"
    params: ClassVar[dict[str, Any]] = {"threshold": 0.1}
    described = "darkness of the darkest 1% of pixels"

    def score(self, measurements: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
        return 1.0 - _column(measurements, "luminance_p01"), {}


class RelativeCheck(ImageMeasureCheck):
    """Base of the checks that compare a quantity of each image with the dataset's median
    (:func:`relative_to_typical`); subclasses set ``typical_name`` (its key in ``info``) and
    ``both_ways``, and implement :meth:`quantity`."""

    typical_name: ClassVar[str] = ""
    both_ways: ClassVar[bool] = False

    def quantity(self, measurements: pd.DataFrame) -> np.ndarray:
        """The quantity compared, per image (float64, NaN where it cannot be measured)."""
        raise NotImplementedError

    def score(self, measurements: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
        score, typical = relative_to_typical(self.quantity(measurements), both_ways=self.both_ways)
        return score, {self.typical_name: typical}


@register_check
class BlurryCheck(RelativeCheck):
    """Images far less sharp than the dataset's typical image."""

    name = "blurry"
    params: ClassVar[dict[str, Any]] = {"threshold": 0.3}
    described = "sharpness relative to the median"
    typical_name = "typical_sharpness"

    def quantity(self, measurements: pd.DataFrame) -> np.ndarray:
        return _column(measurements, "sharpness")


@register_check
class LowInformationCheck(RelativeCheck):
    """Images with far less variety of shades than the typical image (near-blank ones)."""

    name = "low_information"
    params: ClassVar[dict[str, Any]] = {"threshold": 0.3}
    described = "entropy relative to the median"
    typical_name = "typical_entropy_bits"

    def quantity(self, measurements: pd.DataFrame) -> np.ndarray:
        return _column(measurements, "entropy")


@register_check
class OddSizeCheck(RelativeCheck):
    """Images far smaller or larger than the typical image."""

    name = "odd_size"
    params: ClassVar[dict[str, Any]] = {"threshold": 0.3}
    described = "size relative to the median (either way)"
    typical_name = "typical_side"
    both_ways = True

    def quantity(self, measurements: pd.DataFrame) -> np.ndarray:
        return np.sqrt(_column(measurements, "width") * _column(measurements, "height"))


@register_check
class OddAspectRatioCheck(RelativeCheck):
    """Images far wider or taller than the typical image."""

    name = "odd_aspect_ratio"
    params: ClassVar[dict[str, Any]] = {"threshold": 0.5}
    described = "aspect ratio relative to the median (either way)"
    typical_name = "typical_aspect_ratio"
    both_ways = True

    def quantity(self, measurements: pd.DataFrame) -> np.ndarray:
        return _column(measurements, "width") / _column(measurements, "height")


@register_check
class GrayscaleCheck(ImageMeasureCheck):
    """Images without colour in a dataset of colour images."""

    name = "grayscale"
    params: ClassVar[dict[str, Any]] = {"threshold": 0.1}
    described = "share of coloured pixels (over 1%)"

    def score(self, measurements: pd.DataFrame) -> tuple[np.ndarray, dict[str, Any]]:
        fraction = _column(measurements, "colour_fraction")
        if not typical_value(fraction) > COLOURED:  # a grey dataset: grey is not odd in it
            return np.where(np.isnan(fraction), np.nan, 1.0), {"colour_dataset": False}
        return np.minimum(fraction / COLOURED, 1.0), {"colour_dataset": True}
