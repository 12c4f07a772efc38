"""Options shared by the discriminators: how the label enters, an AC-GAN class head, spectral normalization."""

from typing import Literal, Optional, Union

from torch import Tensor, nn
from torch.nn.utils import parametrizations

from gan_lightning.errors import GANLightningError

Conditioning = Literal["concat", "projection"]
CONDITIONINGS = ("concat", "projection")


def check_conditioning(conditioning: str) -> None:
    if conditioning not in CONDITIONINGS:
        raise GANLightningError(
            f"Unknown conditioning {conditioning!r}: choose one of {', '.join(CONDITIONINGS)}."
        )


def check_aux_classifier(aux_classifier: bool, n_classes: int) -> None:
    if aux_classifier and n_classes < 2:
        raise GANLightningError(f"aux_classifier needs n_classes >= 2 (got {n_classes}): set the discriminator's "
                                "n_classes to the number of classes, or turn aux_classifier off.")


def with_class_logits(logits: Tensor, features: Tensor, classifier: Optional[nn.Module],
                      wanted: bool) -> Union[Tensor, tuple[Tensor, Tensor]]:
    """``logits``, or ``(logits, classifier(features))`` when the caller asks for the AC-GAN class logits."""
    if not wanted:
        return logits
    if classifier is None:
        raise GANLightningError("This discriminator has no class head: build it with aux_classifier: true.")
    return logits, classifier(features)


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
