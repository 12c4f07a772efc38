"""The protocol of a sample-quality number: what decides whether two numbers can be compared (the backbone and a
hash of its weights, how images are resized for it, how many generated and real images, which real split, how the
samples were drawn, the library versions). The callbacks print it and log it with the run's hyperparameters,
``evaluate.py`` prints it, ``reproduce.py`` writes it into every row of results.csv.

    >>> protocol = Protocol("mnist", "09c43699c7e62", "none", 10000, 10000, "mnist test", "1x28x28", "EMA generator")
    >>> protocol.line()[:60]
    '10000 samples (EMA generator) vs 10000 mnist test images at '
"""

from dataclasses import asdict, dataclass, field

import torch
import torchmetrics


@dataclass(frozen=True)
class Protocol:
    """How a score was measured; ``as_dict()`` for logs and CSV rows, ``line()`` for printing."""

    backbone: str
    backbone_hash: str
    resize: str
    num_generated: int
    num_real: int
    real_split: str  # the data and its split, "mnist test"
    resolution: str  # of the images the generator makes, "1x28x28"
    sampling: str  # which generator, truncation, noise seed
    torch: str = field(default_factory=lambda: str(torch.__version__))  # a plain str: checkpoints load weights_only
    torchmetrics: str = field(default_factory=lambda: str(torchmetrics.__version__))

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        real = f" vs {self.num_real} {self.real_split} images" if self.num_real else ""
        return (f"{self.num_generated} samples ({self.sampling}){real} at {self.resolution}, {self.backbone} backbone "
                f"{self.backbone_hash[:8]} (resize: {self.resize}); torch {self.torch}, torchmetrics "
                f"{self.torchmetrics}")
