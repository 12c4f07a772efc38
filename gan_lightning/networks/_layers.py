"""Options shared by the discriminators: how the label enters, and spectral normalization."""

from typing import Literal

from torch import nn
from torch.nn.utils import parametrizations

from gan_lightning.errors import GANLightningError

Conditioning = Literal["concat", "projection"]
CONDITIONINGS = ("concat", "projection")


def check_conditioning(conditioning: str) -> None:
    if conditioning not in CONDITIONINGS:
        raise GANLightningError(
            f"Unknown conditioning {conditioning!r}: choose one of {', '.join(CONDITIONINGS)}."
        )


def add_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalize the weight of every Conv, Linear and Embedding layer inside ``module``, in place.

    Uses ``torch.nn.utils.parametrizations.spectral_norm`` (one power iteration per training forward), so
    ``state_dict``/``load_state_dict`` and ``copy.deepcopy`` work; pickling the whole module does not
    (``torch.save(module)``), as for any parametrized module: save its ``state_dict`` instead.
    Initialize the weights before calling this: afterwards ``layer.weight`` is computed, not stored.
    """
    for layer in list(module.modules()):
        if isinstance(layer, (nn.modules.conv._ConvNd, nn.Linear, nn.Embedding)):
            parametrizations.spectral_norm(layer)
    return module
