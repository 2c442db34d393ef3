"""The bench's line for a failed daily run says why it failed (bench.measure.failure)."""

from bench.measure import failure

CAUSE = "sending query and params failed: number of parameters must be between 0 and 65535"
PARAMETERS = ", ".join(f"'p_{i}': {i}" for i in range(2000))
DATABASE_ERROR = "\n".join(
    [
        "Traceback (most recent call last):",
        '  File "core/cli.py", line 276, in cmd_automation_run',
        f"psycopg.OperationalError: {CAUSE}",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "core/automation/__init__.py", line 214, in run',
        f"sqlalchemy.exc.OperationalError: (psycopg.OperationalError) {CAUSE}",
        "[SQL: SELECT service_addon.id FROM service_addon WHERE service_id IN (%(p_1)s)]",
        f"[parameters: {{{PARAMETERS}}}]",
        "(Background on this error at: https://sqlalche.me/e/21/e3q8)",
    ]
)


def test_a_database_error_is_told_by_its_cause_not_its_parameters():
    line = failure(DATABASE_ERROR)

    assert line.startswith("sqlalchemy.exc.OperationalError")
    assert "number of parameters must be between 0 and 65535" in line
    assert "p_1999" not in line


def test_any_other_failure_gives_its_last_line():
    assert failure("Traceback ...\n  File x\nKeyError: 'invoice'\n") == "KeyError: 'invoice'"
    assert failure("killed\n") == "killed"
    assert failure("") == ""
