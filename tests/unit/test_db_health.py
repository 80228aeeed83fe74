"""The pool check: a silent idle socket passes for free; one that spoke, or hung up, does not."""

from __future__ import annotations

import socket

from fraiseql.db.health import has_unasked_input


def test_a_quiet_socket_has_nothing_unasked() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not has_unasked_input(ours.fileno())


def test_data_the_peer_sent_unasked_is_noticed() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"E")  # an ErrorResponse starts with 'E'
        assert has_unasked_input(ours.fileno())


def test_a_peer_that_hung_up_is_noticed() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        theirs.close()
        assert has_unasked_input(ours.fileno())
