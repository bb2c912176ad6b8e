"""Synthetic presentation attacks: a photo shown on a screen, or printed, and photographed again.

No real attack captures come with the photo set, so the evaluation and the tests make these from real
photos. They imitate cues a liveness model can see (pixel grids, paper's narrow tonal range, halftone
dots, a tilted plane), and stay sharp enough to pass the quality gate, so liveness alone must catch them;
they do not show how the models fare against real attacks.
"""

from __future__ import annotations

import cv2
import numpy as np


def _tilt(w: int, h: int, rng: np.random.Generator, jitter: float, offset: float) -> np.ndarray:
    """A perspective warp as a slightly tilted plane projects: each corner moves a little."""
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-jitter, jitter, size=(4, 2)).astype(np.float32) * np.float32([w, h])
    dst += np.float32([w * offset, h * offset])
    return cv2.getPerspectiveTransform(src, dst)


def screen_replay(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo on a phone or monitor, re-photographed: RGB sub-pixel grid, glow, tilt, dark bezel."""
    h, w = img.shape[:2]
    screen = cv2.resize(img, (w * 3, h * 3), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    grid = np.zeros_like(screen)
    for channel in range(3):  # each screen pixel is three vertical stripes, blue-green-red in BGR order
        grid[:, channel::3, 2 - channel] = 1.0
    grid[2::3] *= 0.5  # the dark gap between pixel rows
    screen = np.clip(screen * (0.35 + 0.65 * grid) * 1.4 + 20, 0, 255)
    size = (int(w * 3 * 1.3), int(h * 3 * 1.3))
    matrix = _tilt(w * 3, h * 3, rng, 0.06, 0.15)
    canvas = np.full((size[1], size[0], 3), 25, np.float32)
    cv2.warpPerspective(screen, matrix, size, dst=canvas, borderMode=cv2.BORDER_TRANSPARENT)
    shot = cv2.resize(canvas, (w * 13 // 10, h * 13 // 10), interpolation=cv2.INTER_AREA)
    return np.clip(shot, 0, 255).astype(np.uint8)


def print_attack(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo printed on paper and re-photographed: narrow tonal range, warm cast, halftone, tilt."""
    h, w = img.shape[:2]
    paper = 40 + img.astype(np.float32) * 0.7
    paper[:, :, 0] *= 0.92
    yy, xx = np.mgrid[:h, :w]
    halftone = 0.9 + 0.1 * np.cos(xx * 2.2) * np.cos(yy * 2.2)
    paper = paper * halftone[:, :, None] + rng.normal(0, 4, paper.shape)
    paper = cv2.GaussianBlur(paper, (0, 0), 0.5)
    shot = cv2.warpPerspective(paper, _tilt(w, h, rng, 0.05, 0.0), (w, h), borderValue=(200, 200, 200))
    return np.clip(shot, 0, 255).astype(np.uint8)
