"""Components of the harness's stack, each with start/stop: the local HTTPS issuer, ..."""

from chaos.stack.issuer import ALGORITHMS, ASYMMETRIC_ALGORITHMS, Keyring, LocalIssuer

__all__ = ["ALGORITHMS", "ASYMMETRIC_ALGORITHMS", "Keyring", "LocalIssuer"]
