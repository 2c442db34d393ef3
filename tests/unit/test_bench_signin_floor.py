"""The sign-in floor the bench reports beside its p95: what queueing K bcrypt checks on the
machine's cores allows at best, so a missed target can be told from a slow server."""

from bench.sessions import bcrypt_floor_p95


def test_twenty_checks_on_two_cores_queue_ten_deep():
    # Issue 20's case: 20 sign-ins at once, ~255 ms a check at 12 rounds, 2 cores.
    assert bcrypt_floor_p95(20, 255.0, 2) == 2550.0


def test_as_many_cores_as_checks_costs_one_check():
    assert bcrypt_floor_p95(4, 250.0, 4) == 250.0


def test_one_sign_in_is_one_check():
    assert bcrypt_floor_p95(1, 240.0, 2) == 240.0
