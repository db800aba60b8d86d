"""``MLP``: the multilayer perceptron of curriculum 1.2, as a ``Sequential`` of nn layers."""



from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import nn

__all__ = ["MLP"]

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid, "softplus": nn.Softplus, "identity": nn.Identity,
}  # fmt: skip


class MLP(nn.Sequential):
    """in_features → hidden_sizes[0] → ... → hidden_sizes[-1] → out_features.

    Each hidden block is ``Linear → [BatchNorm1d] → activation → [Dropout]``; the last layer is a
    plain ``Linear`` (it outputs logits or values: put the loss's nonlinearity in the loss).
    ``activation`` is a name (relu, leaky_relu, gelu, silu, tanh, sigmoid, softplus, identity) or
    a callable returning a module (``nn.ReLU``, ``lambda: nn.LeakyReLU(0.2)``). Being a
    ``Sequential``, its ``state_dict`` keys are ``"0.weight"``, ``"0.bias"``, ... as PyTorch's.
    """

    def __init__(
        self,
        in_features: int,
        hidden_sizes: Sequence[int],
        out_features: int,
        activation: str | Callable[[], nn.Module] = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {activation!r}; use one of {sorted(ACTIVATIONS)}")
            activation = ACTIVATIONS[activation]
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden_sizes:
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
