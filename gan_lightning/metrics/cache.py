"""What the metrics keep in memory between evaluations, owned by one object.

``CACHE`` holds the backbones (built once per process and shared by every metric), the reference features (also
saved in a file per reference set under the cache folder, so a machine computes them once), their k-NN radii (per
device; also saved in that file) and the last precision/recall/density/coverage pass (two metrics report it). It
lives as long as the process; ``CACHE.clear()`` forgets what is in memory (the files stay), which is what a new
process starts with.
"""

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class MetricCache:
    """The metrics' memory; see the module's docstring."""

    backbones: dict[tuple[str, Optional[str]], Any] = field(default_factory=dict)  # (name, weights path) -> Backbone
    references: dict[str, Any] = field(default_factory=dict)  # reference key -> Features
    radii: dict[tuple[str, int, str], Any] = field(default_factory=dict)  # (reference key, k, device) -> radii
    last_pass: Optional[tuple] = None  # (fake features, real features, settings, scores) of the last pass

    def clear(self) -> None:
        """Forget everything kept in memory; the cache files on disk stay."""
        self.backbones.clear()
        self.references.clear()
        self.radii.clear()
        self.last_pass = None


CACHE = MetricCache()
